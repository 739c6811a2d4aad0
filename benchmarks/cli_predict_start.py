"""How long ``emotion-clf predict "text"`` takes with a minilm baseline, per runtime: the
first call (the runtime's graph derived from the weights and stored in the disk cache), the
second call (the graph read from the cache), and the second call with the cache off.

The runtimes (``--runtimes``, default ``onnx-int8,auto``) are the paths the disk cache serves:
``onnx-int8`` (its int8 ONNX graph) and ``auto``, the default, which picks ``torch-bf16`` (its
traced TorchScript graph) on a CPU with bfloat16 units, ``onnx-int8`` elsewhere; the result
records what each resolved to here. The script trains one minilm bundle for ``--steps`` steps
on four of the bundled batch files, or takes ``--bundle DIR``, and saves it again per runtime
with that runtime in its manifest (same weights and files); each runtime gets its own fresh
temporary ``EMOTION_CLF_HOME``, with its bundle registered and promoted to baseline. Then every
round, for each runtime in turn (so both see the same load on a shared machine), each call a
fresh process (``python -m emotion_clf predict --json TEXT``):

* ``cold``: the cache folder ``<home>/.cache/runtime`` emptied, then a call;
* ``warm``: the same call again;
* ``warm_folder``: again, with ``--model`` naming the bundle's folder: no registry lookup
  (importing MLflow and asking it for the baseline), so what is left is the command line, the
  bundle's load and the prediction;
* ``off``: the cache folder emptied and the call made with ``EMOTION_CLF_RUNTIME_CACHE=false``.

An untimed call first fetches each bundle into its workspace's model cache and warms the
operating system's file cache, so every timed call starts from the same place. The script
checks what it measures: that the cold call wrote one cache entry of the resolved runtime
(else the warm call is not using the cache and is no faster than ``off``), that ``off`` wrote
none, and that every call of a runtime gave the same answer. A last, untimed warm call per
runtime runs under ``python -X importtime``: where the start's imports go (``warm_imports_s``:
the cumulative seconds of the libraries that weigh, as that flag counts them; ``null`` for one
the call did not import at all). Writes ``benchmarks/results/cli_predict_start.json`` and
prints a table per runtime::

    python -m benchmarks.cli_predict_start [--bundle DIR] [--runtimes onnx-int8,auto] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.machine import header

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CACHE = Path(".cache") / "runtime"  # under the workspace home: Settings.runtime_cache_dir
ENTRIES = "minilm-*.bin"  # any runtime's entry: minilm-<runtime>-<key>.bin
TEXT = "I can't believe we finally made it, this is wonderful!"
TARGET_S = 3.0  # the second call's answer, on a 2-core machine
RUNTIMES = "onnx-int8,auto"
# the warm call's imports worth watching (python -X importtime, cumulative)
WATCHED = (
    "emotion_clf.cli",
    "emotion_clf.azure",
    "mlflow",
    "sqlalchemy",
    "alembic",
    "torch",
    "transformers",
    "onnxruntime",
    "tokenizers",
    "numpy",
    "pandas",
)
CALLS = {
    "cold": "first call (cold disk cache)",
    "warm": "second call (warm disk cache)",
    "warm_folder": "second call, --model FOLDER (no registry lookup)",
    "off": "second call, disk cache off",
}


def train_bundle(out: Path, *, steps: int, runtime: str) -> Path:
    """A small minilm: ``steps`` steps on the first four batch files of ``data/raw``."""
    from emotion_clf.training import train_model

    data = sorted((ROOT / "data" / "raw").glob("*.csv"))[:4]
    params = {"max_steps": steps, "batch_size": 16, "runtime": runtime}
    return train_model("minilm", data=data, out=out, seed=0, params=params).bundle


def with_runtime(bundle: Path, runtime: str, out: Path) -> Path:
    """``bundle`` itself where its manifest asks for ``runtime``, else a copy that does: the
    same weights and files, saved again with the runtime in its parameters."""
    from emotion_clf.models import load_bundle, save_bundle, verify_bundle
    from emotion_clf.models.minilm import MiniLMModel

    manifest = verify_bundle(bundle)
    if manifest.family != "minilm":
        raise SystemExit(f"{bundle} is a {manifest.family} bundle; this measures minilm")
    if manifest.params.get("runtime") == runtime:
        return bundle
    model = load_bundle(bundle)
    assert isinstance(model, MiniLMModel)
    pinned = model.with_runtime(runtime)
    with tempfile.TemporaryDirectory() as state:
        pinned.save_state(Path(state))
        own = {p.relative_to(state).as_posix() for p in Path(state).rglob("*") if p.is_file()}
    files = {name: (bundle / name).read_bytes() for name in manifest.files if name not in own}
    return save_bundle(
        pinned,
        out,
        data_fingerprint=manifest.data_fingerprint,
        metrics=manifest.metrics,
        extra=manifest.extra,
        files=files,
    )


def make_baseline(home: Path, bundle: Path) -> str:
    """Register ``bundle`` in ``home``'s registry and promote it; its version."""
    from emotion_clf.config import Settings
    from emotion_clf.promotion import promote
    from emotion_clf.registry import open_registry

    settings = Settings(home=home, refresh_endpoints=[])
    info = open_registry(settings).register_bundle(bundle)
    promote(settings=settings, version=info.version, force=True, reason="benchmark", refresh=False)
    return info.version


def predict(home: Path, *, cache_on: bool, model: str = "baseline") -> tuple[float, float, Any]:
    """One ``emotion-clf predict`` in a fresh process: wall seconds, CPU seconds, its answer."""
    env = {**os.environ, "EMOTION_CLF_HOME": str(home), "EMOTION_CLF_REFRESH_ENDPOINTS": ""}
    env.pop("EMOTION_CLF_RUNTIME_CACHE", None)
    if not cache_on:
        env["EMOTION_CLF_RUNTIME_CACHE"] = "false"
    command = [sys.executable, "-m", "emotion_clf", "predict", "--json", "--model", model, TEXT]
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=home)
    wall = time.perf_counter() - started
    after = os.times()
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu, json.loads(done.stdout)


def import_profile(home: Path) -> dict[str, float | None]:
    """One more warm call under ``python -X importtime``: the cumulative import seconds of each
    :data:`WATCHED` module, ``None`` for one it did not import."""
    predict(home, cache_on=True)  # the last timed call leaves the cache empty: fill it
    env = {**os.environ, "EMOTION_CLF_HOME": str(home), "EMOTION_CLF_REFRESH_ENDPOINTS": ""}
    env.pop("EMOTION_CLF_RUNTIME_CACHE", None)
    command = [sys.executable, "-X", "importtime", "-m", "emotion_clf", "predict", "--json", TEXT]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=home)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    seconds: dict[str, float | None] = dict.fromkeys(WATCHED)
    for line in done.stderr.splitlines():
        # "import time:  self [us] | cumulative | imported package", nested names indented
        fields = line.removeprefix("import time:").split("|")
        if len(fields) == 3 and fields[2].strip() in seconds and fields[1].strip().isdigit():
            name = fields[2].strip()
            if seconds[name] is None:  # its first import is the one that costs
                seconds[name] = round(int(fields[1]) / 1e6, 3)
    return seconds


def package_source() -> str:
    """Where the timed processes import emotion_clf from (``PYTHONPATH`` may name a copy)."""
    command = [sys.executable, "-c", "import emotion_clf; print(emotion_clf.__file__)"]
    done = subprocess.run(
        command, capture_output=True, text=True, check=True, cwd=tempfile.gettempdir()
    )
    return str(Path(done.stdout.strip()).parent)


def entries(home: Path) -> list[Path]:
    return sorted((home / CACHE).glob(ENTRIES))


def empty_cache(home: Path) -> None:
    shutil.rmtree(home / CACHE, ignore_errors=True)


def new_runs() -> dict[str, Any]:
    return {
        "seconds": {name: [] for name in CALLS},
        "cpu_seconds": {name: [] for name in CALLS},
        "answers": [],
        "written": [],
        "off_wrote": [],
    }


def measure_round(home: Path, bundle: Path, runs: dict[str, Any], *, resolved: str) -> None:
    """One round of :data:`CALLS` in ``home``, added to ``runs``."""
    for name in CALLS:
        if name in ("cold", "off"):
            empty_cache(home)
        model = str(bundle) if name == "warm_folder" else "baseline"
        wall, used, answer = predict(home, cache_on=name != "off", model=model)
        runs["seconds"][name].append(round(wall, 3))
        runs["cpu_seconds"][name].append(round(used, 3))
        runs["answers"].append({**answer, "model": None})  # the label names the path or version
        if name == "cold":
            found = [p.name for p in entries(home)]
            runs["written"].append(len(found) == 1 and found[0].startswith(f"minilm-{resolved}-"))
        if name == "off":
            runs["off_wrote"].append(bool(entries(home)))


def summarise(runs: dict[str, Any]) -> dict[str, Any]:
    seconds, cpu, answers = runs["seconds"], runs["cpu_seconds"], runs["answers"]
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "median_s": {name: statistics.median(values) for name, values in seconds.items()},
        "median_cpu_s": {name: statistics.median(values) for name, values in cpu.items()},
        "cache_written_by_cold_call": all(runs["written"]),
        "cache_written_with_cache_off": any(runs["off_wrote"]),
        "same_answers": all(answer == answers[0] for answer in answers),
        "answer": answers[0],
    }


def measure(setups: dict[str, dict[str, Any]], repeats: int) -> dict[str, dict[str, Any]]:
    """Every runtime's calls, the runtimes taking turns each round."""
    for setup in setups.values():
        predict(setup["home"], cache_on=True)  # fetch the bundle into the model cache
    runs = {runtime: new_runs() for runtime in setups}
    for _ in range(repeats):
        for runtime, setup in setups.items():
            measure_round(setup["home"], setup["bundle"], runs[runtime], resolved=setup["resolved"])
    return {runtime: summarise(runs[runtime]) for runtime in setups}


def render_runtime(runtime: str, result: dict[str, Any]) -> str:
    lines = [
        f"### {runtime} (runs {result['resolved']})\n",
        "| emotion-clf predict | median wall s | wall s, each round | median CPU s |",
        "|---|---:|---|---:|",
    ]
    for name, label in CALLS.items():
        runs = ", ".join(f"{s:.2f}" for s in result["seconds"][name])
        lines.append(
            f"| {label} | {result['median_s'][name]:.2f} | {runs} | "
            f"{result['median_cpu_s'][name]:.2f} |"
        )
    warm = result["median_s"]["warm"]
    lines.append(f"\nsecond call under {TARGET_S:.0f} s: {'yes' if warm < TARGET_S else 'no'}")
    if not result["cache_written_by_cold_call"]:
        lines.append(
            f"WARNING: the first call wrote no {CACHE}/minilm-{result['resolved']}-*.bin: the "
            "model did not run the runtime asked for, or this command line does not pass the "
            "runtime cache folder; the warm call is not using it"
        )
    if result["cache_written_with_cache_off"]:
        lines.append("WARNING: EMOTION_CLF_RUNTIME_CACHE=false did not turn the cache off")
    if not result["same_answers"]:
        lines.append("WARNING: the calls did not all give the same answer")
    imports = ", ".join(
        f"{name} {'-' if s is None else f'{s:.2f}'}" for name, s in result["warm_imports_s"].items()
    )
    lines.append(f"warm call's imports (s, -X importtime, cumulative; - = not imported): {imports}")
    return "\n".join(lines)


def render(document: dict[str, Any]) -> str:
    return "\n\n".join(
        render_runtime(runtime, result) for runtime, result in document["runtimes"].items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, help="a minilm bundle (default: train one)")
    parser.add_argument("--steps", type=int, default=5, help="training steps without --bundle")
    parser.add_argument(
        "--runtimes", default=RUNTIMES, help=f"comma-separated (default {RUNTIMES})"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "cli_predict_start.json")
    args = parser.parse_args()
    from emotion_clf.models.minilm import resolve_runtime

    runtimes = [name.strip() for name in args.runtimes.split(",") if name.strip()]
    resolved = {runtime: resolve_runtime(runtime) for runtime in runtimes}  # raises if unknown
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="emotion-clf-cli-start-") as folder:
        work = Path(folder)
        if args.bundle is not None:
            source = args.bundle.resolve()
        else:
            source = train_bundle(work / "trained", steps=args.steps, runtime=runtimes[0])
        setups: dict[str, dict[str, Any]] = {}
        for number, runtime in enumerate(runtimes):
            bundle = with_runtime(source, runtime, work / f"bundle-{number}")
            home = work / f"home-{number}"
            home.mkdir()
            setups[runtime] = {
                "bundle": bundle,
                "home": home,
                "resolved": resolved[runtime],
                "baseline_version": make_baseline(home, bundle),
            }
        measured = measure(setups, args.repeats)
        imports = {runtime: import_profile(setup["home"]) for runtime, setup in setups.items()}
    document = {
        **header(__file__, load_before),
        "bundle": str(args.bundle) if args.bundle else f"trained, {args.steps} steps",
        "text": TEXT,
        "emotion_clf_source": package_source(),
        "repeats": args.repeats,
        "target_warm_s": TARGET_S,
        "runtimes": {
            runtime: {
                "resolved": setup["resolved"],
                "baseline_version": setup["baseline_version"],
                **measured[runtime],
                "warm_imports_s": imports[runtime],
            }
            for runtime, setup in setups.items()
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(render(document))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

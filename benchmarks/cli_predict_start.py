"""How long ``emotion-clf predict "text"`` takes with a minilm baseline on the onnx-int8 path:
the first call (the int8 graph exported, checked, quantised and stored in the disk cache),
the second call (the graph read from the cache), and the second call with the cache off.

In a fresh temporary ``EMOTION_CLF_HOME`` the script registers a minilm bundle and promotes it
to baseline: one trained for ``--steps`` steps on four of the bundled batch files, or
``--bundle DIR``. The bundle must run ``--runtime`` (default ``onnx-int8``, the only path the
disk cache serves; ``auto`` picks ``torch-bf16`` on a CPU with bfloat16 units), so a bundle
whose manifest asks for another runtime is saved again with that one (same weights and files).
Then every round, each call a fresh process (``python -m emotion_clf predict --json TEXT``):

* ``cold``: the cache folder ``<home>/.cache/runtime`` emptied, then a call;
* ``warm``: the same call again;
* ``warm_folder``: again, with ``--model`` naming the bundle's folder: no registry lookup
  (importing MLflow and asking it for the baseline), so what is left is the command line, the
  bundle's load and the prediction;
* ``off``: the cache folder emptied and the call made with ``EMOTION_CLF_RUNTIME_CACHE=false``.

An untimed call first fetches the bundle into the workspace's model cache and warms the
operating system's file cache, so every timed call starts from the same place. The script
checks what it measures: that the cold call wrote a cache entry (else the command line does
not pass the cache folder yet and ``warm`` is no faster than ``off``), that ``off`` wrote
none, and that every call gave the same answer. Writes
``benchmarks/results/cli_predict_start.json`` and prints a table::

    python -m benchmarks.cli_predict_start [--bundle DIR] [--repeats 3]
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
ENTRIES = "minilm-onnx-int8-*.bin"
TEXT = "I can't believe we finally made it, this is wonderful!"
TARGET_S = 3.0  # the second call's answer, on a 2-core machine
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


def measure(home: Path, bundle: Path, repeats: int) -> dict[str, Any]:
    predict(home, cache_on=True)  # fetch the bundle into the model cache, warm the file cache
    seconds: dict[str, list[float]] = {name: [] for name in CALLS}
    cpu: dict[str, list[float]] = {name: [] for name in CALLS}
    answers: list[Any] = []
    written, off_wrote = [], []
    for _ in range(repeats):
        for name in CALLS:
            if name in ("cold", "off"):
                empty_cache(home)
            model = str(bundle) if name == "warm_folder" else "baseline"
            wall, used, answer = predict(home, cache_on=name != "off", model=model)
            seconds[name].append(round(wall, 3))
            cpu[name].append(round(used, 3))
            answers.append({**answer, "model": None})  # the label names the path or version
            if name == "cold":
                written.append(len(entries(home)) == 1)
            if name == "off":
                off_wrote.append(bool(entries(home)))
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "median_s": {name: statistics.median(values) for name, values in seconds.items()},
        "median_cpu_s": {name: statistics.median(values) for name, values in cpu.items()},
        "cache_written_by_cold_call": all(written),
        "cache_written_with_cache_off": any(off_wrote),
        "same_answers": all(answer == answers[0] for answer in answers),
        "answer": answers[0],
    }


def render(document: dict[str, Any]) -> str:
    lines = ["| emotion-clf predict | median wall s | wall s, each round | median CPU s |"]
    lines.append("|---|---:|---|---:|")
    for name, label in CALLS.items():
        runs = ", ".join(f"{s:.2f}" for s in document["seconds"][name])
        lines.append(
            f"| {label} | {document['median_s'][name]:.2f} | {runs} | "
            f"{document['median_cpu_s'][name]:.2f} |"
        )
    warm = document["median_s"]["warm"]
    lines.append(f"\nsecond call under {TARGET_S:.0f} s: {'yes' if warm < TARGET_S else 'no'}")
    if not document["cache_written_by_cold_call"]:
        lines.append(
            f"WARNING: the first call wrote no {CACHE}/{ENTRIES}: this command line does not "
            "pass the runtime cache folder, so the warm call is not using it"
        )
    if document["cache_written_with_cache_off"]:
        lines.append("WARNING: EMOTION_CLF_RUNTIME_CACHE=false did not turn the cache off")
    if not document["same_answers"]:
        lines.append("WARNING: the calls did not all give the same answer")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, help="a minilm bundle (default: train one)")
    parser.add_argument("--steps", type=int, default=5, help="training steps without --bundle")
    parser.add_argument("--runtime", default="onnx-int8")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "cli_predict_start.json")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="emotion-clf-cli-start-") as folder:
        work = Path(folder)
        if args.bundle is not None:
            bundle = with_runtime(args.bundle.resolve(), args.runtime, work / "bundle")
        else:
            bundle = train_bundle(work / "bundle", steps=args.steps, runtime=args.runtime)
        home = work / "home"
        home.mkdir()
        version = make_baseline(home, bundle)
        measured = measure(home, bundle, args.repeats)
    document = {
        **header(__file__, load_before),
        "bundle": str(args.bundle) if args.bundle else f"trained, {args.steps} steps",
        "runtime": args.runtime,
        "baseline_version": version,
        "text": TEXT,
        "emotion_clf_source": package_source(),
        "repeats": args.repeats,
        "target_warm_s": TARGET_S,
        **measured,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(render(document))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

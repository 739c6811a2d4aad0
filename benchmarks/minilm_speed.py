"""Inference speed and memory of a minilm bundle: plain PyTorch fp32 against the fast paths.

The shipped path is what ``runtime="auto"`` picks on this machine (``torch-bf16`` on CPUs
with bfloat16 units, ``onnx-int8`` elsewhere); every fast path is measured.

Measures, on this machine, in one process (runtimes interleaved, so a neighbour's load hits
both alike; each number is the median of ``--repeats`` rounds):

* sentences per second at batch sizes 1, 8, 32 and 128 over the first ``--sentences`` test
  sentences, in their order in the data (so a batch mixes short and long sentences);
* p50 / p99 latency of one sentence at batch 1;
* peak resident memory of a process that loads the model and predicts one batch of 128,
  each runtime in a fresh subprocess;
* accuracy, macro-F1 and weighted-F1 per head on the test split, for both runtimes.

Writes ``benchmarks/results/minilm_speed.json`` and prints a table::

    python -m benchmarks.minilm_speed --bundle /tmp/minilm-default

What one forward pass costs (``batching.PASS_TOKENS``) is ``benchmarks.minilm_pass_cost``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RUNTIMES = ("torch-fp32", "torch-bf16", "torch-int8", "onnx-int8")  # the plain reference first
BATCH_SIZES = (1, 8, 32, 128)
HERE = Path(__file__).resolve().parent


def _load(bundle: str, runtime: str) -> Any:
    from emotion_clf.models.bundle import load_bundle

    return load_bundle(bundle).with_runtime(runtime)


def peak_rss_mib() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss
    over fork and exec, so a child started by a big parent would report the parent's peak."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_child(bundle: str, runtime: str, texts_file: str) -> None:
    """Runs in a fresh process: import, load, predict 128 sentences, report peak RSS.

    The texts come from a file: reading the data set here would set the peak itself.
    """
    texts = json.loads(Path(texts_file).read_text(encoding="utf-8"))
    import transformers  # noqa: F401  (the baseline counts the libraries, not the model)

    from emotion_clf.models import minilm  # noqa: F401
    from emotion_clf.models.bundle import load_bundle

    imported = peak_rss_mib()
    model = load_bundle(bundle).with_runtime(runtime)
    model.predict_batch(texts)
    print(json.dumps({"peak_rss_mib": peak_rss_mib(), "after_imports_mib": imported}))


def peak_rss(bundle: str, runtime: str, texts: list[str]) -> dict[str, float]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as handle:
        json.dump(texts, handle)
        handle.flush()
        command = [sys.executable, "-m", "benchmarks.minilm_speed", "--rss-child", runtime]
        command += [handle.name, "--bundle", str(Path(bundle).resolve())]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env,
            check=True,
            cwd=HERE.parent,
        )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def throughput(model: Any, texts: list[str], batch_size: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        model.predict_proba(texts[start : start + batch_size])
    return len(texts) / (time.perf_counter() - started)


def latencies_ms(model: Any, texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        started = time.perf_counter()
        model.predict_proba([text])
        out.append((time.perf_counter() - started) * 1000)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", required=True, help="a trained minilm bundle folder")
    parser.add_argument("--sentences", type=int, default=1024)
    parser.add_argument("--latency-sentences", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "minilm_speed.json")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--rss-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    if args.rss_child:
        rss_child(args.bundle, *args.rss_child)
        return

    import torch

    from emotion_clf.data.loader import load_dataset
    from emotion_clf.data.split import split_by_batch
    from emotion_clf.models import evaluate
    from emotion_clf.models.minilm.runtime import resolve_runtime

    shipped = resolve_runtime("auto")
    test = split_by_batch(load_dataset(HERE.parent / "data" / "raw")).test
    texts = test.texts[: args.sentences]
    models = {runtime: _load(args.bundle, runtime) for runtime in RUNTIMES}
    for model in models.values():  # warm up: first calls allocate and pick kernels
        throughput(model, texts[:256], 32)
        latencies_ms(model, texts[:20])

    speed: dict[str, dict[str, list[float]]] = {
        r: {str(b): [] for b in BATCH_SIZES} for r in RUNTIMES
    }
    latency: dict[str, list[float]] = {r: [] for r in RUNTIMES}
    for _ in range(args.repeats):
        for batch_size in BATCH_SIZES:
            for runtime in RUNTIMES:
                speed[runtime][str(batch_size)].append(
                    throughput(models[runtime], texts, batch_size)
                )
        for runtime in RUNTIMES:
            latency[runtime].extend(latencies_ms(models[runtime], texts[: args.latency_sentences]))

    results: dict[str, Any] = {
        "command": " ".join(["python", "-m", "benchmarks.minilm_speed", *sys.argv[1:]]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "bundle": args.bundle,
        "machine": {
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "processor": platform.processor() or platform.machine(),
            "load_average_at_end": os.getloadavg(),
        },
        "shipped_runtime": shipped,
        "sentences": len(texts),
        "repeats": args.repeats,
        "runtimes": {},
    }
    for runtime in RUNTIMES:
        results["runtimes"][runtime] = {
            "sentences_per_second": {
                b: statistics.median(values) for b, values in speed[runtime].items()
            },
            "latency_ms_batch1": {
                "p50": percentile(latency[runtime], 50),
                "p99": percentile(latency[runtime], 99),
            },
            "memory": peak_rss(args.bundle, runtime, texts[:128]),
        }
    plain = results["runtimes"][RUNTIMES[0]]
    for runtime in RUNTIMES[1:]:
        fast = results["runtimes"][runtime]
        fast["speedup"] = {
            b: fast["sentences_per_second"][b] / plain["sentences_per_second"][b]
            for b in plain["sentences_per_second"]
        }
    if not args.skip_accuracy:
        evaluations = {runtime: evaluate(models[runtime], test) for runtime in RUNTIMES}
        for runtime in RUNTIMES:
            results["runtimes"][runtime]["test"] = evaluations[runtime].summary()
        reference = evaluations[RUNTIMES[0]]
        for runtime in RUNTIMES[1:]:
            fast = results["runtimes"][runtime]
            fast["accuracy_delta_points"] = {
                head: 100 * (fast["test"][head]["accuracy"] - plain["test"][head]["accuracy"])
                for head in plain["test"]
            }
            fast["label_agreement_with_fp32"] = {
                head: float((evaluations[runtime][head].y_pred == reference[head].y_pred).mean())
                for head in plain["test"]
            }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))
    print(f"\nwritten to {args.out}")


def render(results: dict[str, Any]) -> str:
    lines = [
        "sentences/s by batch size; latency of one sentence at batch 1; peak RSS of a fresh "
        "process that loads the model and predicts 128 sentences (after imports alone: "
        f"{results['runtimes'][RUNTIMES[0]]['memory']['after_imports_mib']:.0f} MiB)",
        "",
        "| runtime | b=1 | b=8 | b=32 | b=128 | x fp32 at b=32 | p50 ms | p99 ms | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for runtime, r in results["runtimes"].items():
        sps = r["sentences_per_second"]
        name = runtime + (" (shipped)" if runtime == results["shipped_runtime"] else "")
        ratio = f"{r['speedup']['32']:.2f}x" if "speedup" in r else "1.00x"
        lines.append(
            f"| {name} | "
            + " | ".join(f"{sps[str(b)]:.0f}" for b in BATCH_SIZES)
            + f" | {ratio} | {r['latency_ms_batch1']['p50']:.2f}"
            + f" | {r['latency_ms_batch1']['p99']:.2f} | {r['memory']['peak_rss_mib']:.0f} |"
        )
    if "test" in results["runtimes"][RUNTIMES[0]]:
        lines += [
            "",
            "test split, accuracy / macro-F1 per head (delta in accuracy points against fp32)",
            "",
            "| runtime | emotion | sub-emotion | intensity |",
            "|---|---|---|---|",
        ]
        for runtime, r in results["runtimes"].items():
            cells = []
            for head, m in r["test"].items():
                delta = r.get("accuracy_delta_points", {}).get(head)
                extra = f" ({delta:+.2f})" if delta is not None else ""
                cells.append(f"{m['accuracy']:.4f}{extra} / {m['macro_f1']:.4f}")
            lines.append(f"| {runtime} | " + " | ".join(cells) + " |")
        lines += ["", "share of test labels equal to fp32's", ""]
        for runtime, r in results["runtimes"].items():
            if "label_agreement_with_fp32" in r:
                shares = ", ".join(
                    f"{h} {v:.4f}" for h, v in r["label_agreement_with_fp32"].items()
                )
                lines.append(f"- {runtime}: {shares}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

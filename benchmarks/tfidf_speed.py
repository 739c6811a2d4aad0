"""CPU per sentence of the tfidf model's ``predict_batch``, by batch size.

A server calls the model with the batches its micro-batcher gathers: 1 to 16 texts under the
loads of ``serving_throughput.py``, where the in-process ceiling is measured at batch 32. A
fixed cost per call weighs on the small batches only. Variants (``NAME=SRC``, the package's
source folder) run in turns, each in a child process, on the same bundle and texts; a round
takes the best of three passes over 512 texts per batch size, and the table gives the median
(range) over rounds of the CPU time per sentence (``time.process_time``, so that the figure is
the call's own cost on a shared machine). Each variant's folder comes first on its child's
``PYTHONPATH``. Writes ``benchmarks/results/tfidf_speed.json``::

    python -m benchmarks.tfidf_speed --bundle TFIDF_BUNDLE \\
        --variant before=<worktree>/src --variant after=src --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.machine import header
from benchmarks.serving_microbatch import sample_texts

ROOT = Path(__file__).resolve().parents[1]
SIZES = (1, 2, 4, 8, 16, 32, 64)


def _child(bundle: Path, texts: int) -> dict[str, Any]:
    """µs of CPU per sentence at each batch size, in this process, and the package used."""
    import emotion_clf  # the variant's: its folder is first on PYTHONPATH
    from emotion_clf.models import load_bundle

    model = load_bundle(bundle)
    sample = sample_texts(texts)
    model.predict_batch(sample[:8])  # builds the inference caches
    out: dict[str, Any] = {"package": str(Path(emotion_clf.__file__).parent)}
    for size in SIZES:
        best = float("inf")
        for _ in range(3):
            began = time.process_time()
            for start in range(0, len(sample), size):
                list(model.predict_batch(sample[start : start + size]))
            best = min(best, time.process_time() - began)
        out[str(size)] = best / len(sample) * 1e6
    return out


def _run_variant(src: Path, args: argparse.Namespace) -> dict[str, float]:
    """One round of a variant; fails where the child imported another copy of the package."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, "-m", "benchmarks.tfidf_speed", "--child"]
    command += ["--bundle", str(args.bundle.resolve()), "--texts", str(args.texts)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"variant {src} failed:\n{done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    package = Path(figures.pop("package"))
    if package != src / "emotion_clf":
        raise SystemExit(f"variant {src} imported the package from {package}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument(
        "--variant", action="append", default=[], metavar="NAME=SRC", help="repeatable"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/tfidf_speed.json")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.bundle, args.texts)))
        return
    variants = dict(v.split("=", 1) for v in args.variant) or {"now": str(ROOT / "src")}
    load_before = os.getloadavg()
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for turn in range(args.rounds):
        for name, src in variants.items():
            rounds[name].append(_run_variant(Path(src).resolve(), args))
        print(f"round {turn + 1}/{args.rounds} done", file=sys.stderr)
    summary: dict[str, Any] = {}
    for name, runs in rounds.items():
        summary[name] = {
            size: {
                "median_us": round(statistics.median(r[size] for r in runs), 1),
                "min_us": round(min(r[size] for r in runs), 1),
                "max_us": round(max(r[size] for r in runs), 1),
            }
            for size in map(str, SIZES)
        }
    document = {
        **header(__file__, load_before),
        "variants": variants,
        "rounds": rounds,
        "summary_us_per_sentence": summary,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    names = list(variants)
    print("| batch | " + " | ".join(f"{n} µs/sentence" for n in names) + " |")
    print("|---:|" + "---:|" * len(names))
    for size in map(str, SIZES):
        cells = [
            f"{summary[n][size]['median_us']:.0f} ({summary[n][size]['min_us']:.0f}-"
            f"{summary[n][size]['max_us']:.0f})"
            for n in names
        ]
        print(f"| {size} | " + " | ".join(cells) + " |")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

"""The README's main job, measured as a newcomer runs it: a fresh clone, then ``make main``.

Clones the committed HEAD of this checkout into a temporary folder, runs ``make main`` there
(set-up included: a new ``.venv``, torch, the project, the kernel), and reads what the job
published: every report's key numbers from ``reports/index.json``. Writes
``benchmarks/results/main_job.json`` and prints a table::

    python -m benchmarks.main_job                      # the full cycle, minilm as the candidate
    python -m benchmarks.main_job --best-family tfidf  # the quick cycle (give it another --out)

The wall time depends on how busy the machine is (minilm's fine-tuning slows several-fold on
loaded cores); the JSON records the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.machine import describe

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def run_main_job(clone: Path, best_family: str, log: Path) -> float:
    started = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMOTION_CLF_")}
    with log.open("w") as sink:
        result = subprocess.run(
            ["make", "main", f"BEST_FAMILY={best_family}"],
            cwd=clone,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        raise SystemExit(f"make main failed ({result.returncode}); last lines:\n{tail}")
    return seconds


def published(clone: Path) -> list[dict[str, Any]]:
    index = json.loads((clone / "reports" / "index.json").read_text())
    reports: list[dict[str, Any]] = index["reports"]
    return sorted(reports, key=lambda r: r["date"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--best-family", default="minilm", choices=["minilm", "tfidf"])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "main_job.json")
    parser.add_argument("--keep", action="store_true", help="keep the clone (path printed)")
    args = parser.parse_args()

    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if dirty:
        print("note: uncommitted changes are not in the clone; HEAD is measured", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="emotion-clf-main-"))
    clone = workdir / "emotion-clf"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    load_before = os.getloadavg()
    print(f"make main BEST_FAMILY={args.best_family} in {clone} ...", flush=True)
    seconds = run_main_job(clone, args.best_family, workdir / "make-main.log")
    load_after = os.getloadavg()
    reports = published(clone)

    result = {
        "command": f"python -m benchmarks.main_job --best-family {args.best_family}",
        "commit": head,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": describe(load_before, load_after),
        "best_family": args.best_family,
        "seconds": round(seconds, 1),
        "steps": [
            {"notebook": r["name"], "seconds": r["seconds"], "key_numbers": r["key_numbers"]}
            for r in reports
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")

    minutes, rest = divmod(seconds, 60)
    print(f"\nmain job, set-up included: {int(minutes)} min {rest:.0f} s ({seconds:.0f} s)")
    print("| step | seconds | outcome |\n|---|---|---|")
    for step in result["steps"]:
        numbers = step["key_numbers"]
        outcome = numbers.get("outcome") or numbers.get("decision") or numbers.get("family")
        print(f"| {step['notebook']} | {step['seconds']:.0f} | {outcome} |")
    compare = [s for s in result["steps"] if s["notebook"] == "02-compare-baseline"]
    if compare:
        n = compare[-1]["key_numbers"]
        print(
            "gate: emotion macro-F1 {:+.3f} (95% CI {:+.3f}..{:+.3f}), McNemar p = {:.2g}".format(
                n["delta.emotion.macro_f1"],
                n["delta.emotion.macro_f1.ci95_low"],
                n["delta.emotion.macro_f1.ci95_high"],
                n["mcnemar.p"],
            )
        )
    print(f"written to {args.out}")
    if args.keep:
        print(f"clone kept at {clone}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

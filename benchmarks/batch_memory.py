"""Batch inference in bounded memory: peak memory of ``emotion-clf predict --input-file`` as the
input grows from ten thousand to a million rows.

Each size is one CSV made by repeating the bundled transcripts' texts (one empty text in every
10,000 rows, so the rejected-rows path runs too). Each run is the real command in its own
process, and its peak resident memory comes from the kernel (``os.wait4``), so the figures are
the command's own. The claim is a ratio within this run: the peak at the largest size over the
peak at the smallest. Every run is also checked for completeness: output rows plus rejected rows
equal input rows. Writes ``benchmarks/results/batch_memory.json`` and prints a table::

    python -m benchmarks.batch_memory [--sizes 10000 100000 1000000] [--tfidf-bundle DIR]

Without a bundle it trains a tfidf one (seconds). tfidf keeps the runs short; the model's
memory is the same at every size, so the ratio measures the pipeline, not the model.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.machine import header
from emotion_clf.data.loader import load_dataset
from emotion_clf.training import train_model

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

DATA = ROOT / "data" / "raw"
BAD_EVERY = 10_000


def write_input(path: Path, rows: int, texts: list[str]) -> int:
    """A CSV of ``rows`` rows; returns how many of them are bad (empty text)."""
    bad = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i in range(rows):
            if i % BAD_EVERY == BAD_EVERY - 1:
                writer.writerow([i, ""])
                bad += 1
            else:
                writer.writerow([i, texts[i % len(texts)]])
    return bad


def rss_mib(pid: int) -> float | None:
    """The resident memory of a running process, from ``/proc`` (MiB)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def sample_rss(pid: int, samples: list[float], stop: threading.Event) -> None:
    while not stop.wait(0.5):
        value = rss_mib(pid)
        if value is not None:
            samples.append(value)


def run_predict(bundle: Path, source: Path, output: Path) -> dict[str, Any]:
    """The CLI in its own process: its peak RSS from the kernel (MiB), its RSS sampled twice a
    second while it runs (the peak comes early, at import and model load; the samples show
    the memory while rows stream), and its wall time."""
    command = [
        str(Path(sys.executable).with_name("emotion-clf")),
        "predict",
        "--input-file",
        str(source),
        "--output",
        str(output),
        "--model",
        str(bundle),
        "--json",
    ]
    started = time.perf_counter()
    with open(output.with_suffix(".log"), "w") as log:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
        assert child.stdout is not None
        samples: list[float] = []
        stop = threading.Event()
        sampler = threading.Thread(target=sample_rss, args=(child.pid, samples, stop))
        sampler.start()
        stdout = child.stdout.read()
        stop.set()
        sampler.join()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"predict failed ({child.returncode}); see {output.with_suffix('.log')}")
    summary = json.loads(stdout)
    return {
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # Linux: kilobytes
        # the second half of the run: rows streaming, the model long loaded
        "late_rss_mib": round(max(samples[len(samples) // 2 :], default=0.0), 1),
        "seconds": round(seconds, 1),
        "summary": summary,
    }


def output_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(str(path)).metadata.num_rows)


def rejected_rows(path: Path) -> int:
    rejected = path.with_name(path.stem + ".rejected.csv")
    if not rejected.exists():
        return 0
    with rejected.open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--tfidf-bundle", type=Path)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "batch_memory.json")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="emotion-clf-batch-memory-"))
    load_before = os.getloadavg()
    runs: list[dict[str, Any]] = []
    try:
        bundle = args.tfidf_bundle or train_model("tfidf", data=DATA, out=workdir / "tfidf").bundle
        texts = load_dataset(DATA).texts
        for size in sorted(args.sizes):
            source = workdir / f"rows-{size}.csv"
            bad = write_input(source, size, texts)
            output = workdir / f"rows-{size}.parquet"
            print(f"{size:>9,} rows ...", flush=True)
            result = run_predict(bundle, source, output)
            written, rejected = output_rows(output), rejected_rows(output)
            runs.append(
                {
                    "rows": size,
                    "input_mib": round(source.stat().st_size / 2**20, 1),
                    "bad_rows": bad,
                    "output_rows": written,
                    "rejected_rows": rejected,
                    "complete": written + rejected == size,
                    "peak_rss_mib": result["peak_rss_mib"],
                    "late_rss_mib": result["late_rss_mib"],
                    "seconds": result["seconds"],
                    "rows_per_s": round(size / result["seconds"], 1),
                }
            )
            source.unlink()
            output.unlink()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    smallest, largest = runs[0], runs[-1]
    ratio = largest["peak_rss_mib"] / smallest["peak_rss_mib"]
    document = {
        **header(__file__, load_before),
        "runs": runs,
        "peak_ratio_largest_over_smallest": round(ratio, 3),
        "rows_ratio_largest_over_smallest": largest["rows"] / smallest["rows"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(
        "| rows | input (MiB) | peak RSS (MiB) | RSS, second half (MiB) | seconds | rows/s "
        "| written + rejected = input |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in runs:
        print(
            f"| {r['rows']:,} | {r['input_mib']} | {r['peak_rss_mib']} | {r['late_rss_mib']} | "
            f"{r['seconds']} | "
            f"{r['rows_per_s']:.0f} | {r['output_rows']:,} + {r['rejected_rows']:,} "
            f"{'=' if r['complete'] else '!='} {r['rows']:,} |"
        )
    print(
        f"peak memory x{ratio:.2f} for x{document['rows_ratio_largest_over_smallest']:.0f} rows; "
        f"load average before/after: {document['machine']}"
    )
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

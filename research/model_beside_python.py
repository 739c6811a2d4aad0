"""What a busy Python thread beside the model costs it: the case for a model-worker process.

In a server worker the model runs in one thread and the event loop (HTTP, JSON, logging) in
another, under one GIL. This measures ``predict_batch`` (batch 32) three ways, for each bundle:

- alone;
- beside a thread that runs Python without pause (a loop that never waits, the worst case of
  an event loop under load): both share the GIL;
- beside a process doing the same: a core is taken, the GIL is not.

CPU per sentence is the calling thread's own CPU time (``time.thread_time``; torch's worker
threads are not counted), so it shows what sharing the GIL costs beyond waiting for it. The
machine may be shared: the last row measures the model alone again. Prints a table and writes JSON:

    python -m research.model_beside_python --bundle tfidf=T --bundle minilm=M --out FILE
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.serving_microbatch import sample_texts

from emotion_clf.models.bundle import load_bundle


def _spin(stop: Callable[[], bool]) -> None:
    x = 0
    while not stop():
        for i in range(1000):
            x += i


def _spin_process(stop: Any) -> None:
    _spin(stop.is_set)


def measure(predict: Callable[[list[str]], object], texts: list[str], seconds: float) -> dict:
    done, wall0, cpu0 = 0, time.perf_counter(), time.thread_time()
    while time.perf_counter() - wall0 < seconds:
        start = done % (len(texts) - 32)
        predict(texts[start : start + 32])
        done += 32
    wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
    return {
        "sentences_per_s": round(done / wall, 1),
        "cpu_us_per_sentence": round(cpu / done * 1e6, 1),
    }


def run(bundle: Path, seconds: float) -> dict[str, dict]:
    predictor = load_bundle(bundle)
    texts = sample_texts(512)
    predictor.predict_batch(texts[:32])
    out = {"alone": measure(predictor.predict_batch, texts, seconds)}

    stop = threading.Event()
    spinner = threading.Thread(target=_spin, args=(stop.is_set,), daemon=True)
    spinner.start()
    out["beside a busy thread"] = measure(predictor.predict_batch, texts, seconds)
    stop.set()
    spinner.join()

    event = multiprocessing.get_context("spawn").Event()
    process = multiprocessing.get_context("spawn").Process(target=_spin_process, args=(event,))
    process.start()
    time.sleep(1.0)  # the child imports and starts spinning
    out["beside a busy process"] = measure(predictor.predict_batch, texts, seconds)
    event.set()
    process.join()
    out["alone, again"] = measure(predictor.predict_batch, texts, seconds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", action="append", required=True, help="NAME=FOLDER")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {"cpus": os.cpu_count(), "families": {}}
    print("| bundle | case | sentences/s | calling thread CPU µs/sentence |")
    print("|---|---|---:|---:|")
    for spec in args.bundle:
        name, _, folder = spec.partition("=")
        rows = run(Path(folder), args.seconds)
        results["families"][name] = rows
        for case, row in rows.items():
            print(
                f"| {name} | {case} | {row['sentences_per_s']:,} | {row['cpu_us_per_sentence']} |"
            )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Batch inference speed: rows per second end to end, and speech transcribed per second.

For each family, the same process measures (1) the model alone, ``predict_batch`` over every
text of the bundled data in chunks, and (2) ``run_batch`` end to end over the 32 CSV files
(read, classify, write Parquet, summarise), so their ratio is the pipeline's overhead. For
speech it transcribes a recording made with espeak-ng and reports seconds of audio per second.
Writes ``benchmarks/results/batch_inference.json`` and prints a table::

    python -m benchmarks.batch_inference [--minilm-bundle DIR] [--tfidf-bundle DIR]

Without a bundle the script trains one (tfidf in seconds; minilm for 100 steps: speed does not
depend on how long it trained). The target (issue 11): minilm at least 1,000 rows/s end to end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.machine import header
from emotion_clf.batch.inputs import SourceReader
from emotion_clf.batch.run import LocalScorer, run_batch
from emotion_clf.data.loader import csv_files, load_dataset
from emotion_clf.models import load_bundle, read_manifest
from emotion_clf.training import train_model

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

DATA = ROOT / "data" / "raw"
CHUNK = 1024


def bundle_for(family: str, given: Path | None, workdir: Path) -> Path:
    if given is not None:
        return given
    params = {"max_steps": 100} if family == "minilm" else {}
    print(f"training a {family} bundle for the benchmark ...", flush=True)
    return train_model(family, data=DATA, out=workdir / family, params=params).bundle


def model_alone(bundle: Path, texts: list[str]) -> float:
    predictor = load_bundle(bundle)
    predictor.predict_batch(texts[:CHUNK])  # warm-up (lazy weights, caches)
    started = time.perf_counter()
    for start in range(0, len(texts), CHUNK):
        batch = predictor.predict_batch(texts[start : start + CHUNK])
        for head in ("emotion", "sub_emotion", "intensity"):
            batch.labels(head), batch.confidences(head)
    return time.perf_counter() - started


def end_to_end(bundle: Path, workdir: Path) -> tuple[float, int, int]:
    predictor = load_bundle(bundle)
    predictor.predict_batch(["warm up"] * 8)
    scorer = LocalScorer(predictor, label=bundle.name, version=None)
    summary = run_batch(
        [str(p) for p in csv_files(DATA)],
        scorer=scorer,
        output=workdir / f"{bundle.name}.parquet",
        reader=SourceReader(workdir=workdir),
        chunk_size=CHUNK,
    )
    return summary.seconds, summary.rows, summary.bad_count


def speech(workdir: Path, repeats: int) -> dict[str, Any] | None:
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed: no speech figure", flush=True)
        return None
    from emotion_clf.speech.transcribe import Transcriber

    texts = load_dataset(DATA).texts[:60]
    wav = workdir / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "160", "-w", str(wav), " ".join(texts)], check=True)
    transcriber = Transcriber()
    transcriber.transcribe(wav, max_duration_s=None)  # loads the model
    runs = [transcriber.transcribe(wav) for _ in range(repeats)]
    audio = runs[0].duration_s
    seconds = min(r.seconds for r in runs)
    return {
        "audio_seconds": round(audio, 1),
        "transcribe_seconds": round(seconds, 2),
        "audio_seconds_per_second": round(audio / seconds, 1),
        "sentences": len(runs[0].segments),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minilm-bundle", type=Path)
    parser.add_argument("--tfidf-bundle", type=Path)
    parser.add_argument("--families", nargs="+", default=["tfidf", "minilm"])
    parser.add_argument("--speech-repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "batch_inference.json")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="emotion-clf-batch-bench-"))
    texts = load_dataset(DATA).texts
    load_before = os.getloadavg()
    results: dict[str, Any] = {}
    try:
        for family in args.families:
            bundle = bundle_for(family, getattr(args, f"{family}_bundle"), workdir)
            alone = model_alone(bundle, texts)
            seconds, rows, bad = end_to_end(bundle, workdir)
            results[family] = {
                "runtime": read_manifest(bundle).runtime,
                "rows": rows,
                "bad_rows": bad,
                "model_alone_rows_per_s": round(len(texts) / alone, 1),
                "end_to_end_rows_per_s": round(rows / seconds, 1),
                "end_to_end_share_of_model": round((rows / seconds) / (len(texts) / alone), 3),
            }
        speech_result = speech(workdir, args.speech_repeats)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    document = {
        **header(__file__, load_before),
        "chunk_size": CHUNK,
        "families": results,
        "speech": speech_result,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print("| family | runtime | model alone (rows/s) | end to end (rows/s) | share |")
    print("|---|---|---|---|---|")
    for family, r in results.items():
        print(
            f"| {family} | {r['runtime']} | {r['model_alone_rows_per_s']:.0f} | "
            f"{r['end_to_end_rows_per_s']:.0f} | {r['end_to_end_share_of_model']:.2f} |"
        )
    if speech_result:
        print(
            f"speech: {speech_result['audio_seconds']} s of audio in "
            f"{speech_result['transcribe_seconds']} s "
            f"({speech_result['audio_seconds_per_second']}x real time)"
        )
    print(f"load average before/after: {document['machine']}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

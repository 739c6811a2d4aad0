"""Inputs that ask for much cost little: the memory of refusing four hours of audio on the real
server, and of ``emotion-clf predict --input-file`` on one line of two gigabytes.

Audio: the real server (``emotion-clf serve``, one worker, 127.0.0.1, a tfidf model in a
temporary registry) is warmed up with one second of silence (Whisper loaded, PyAV imported),
then sent four hours of silent FLAC (under 3 MB) twice over: a file whose header declares its
duration, and the same audio in live Matroska, which declares none. Each answer's status and
wall time are recorded, with the server's resident memory sampled every 20 ms during the
request, less its memory before (from ``/proc``).

Batch: the real command in its own process on a 20,000-row CSV of the bundled texts (the
baseline), on a sparse file of 2 GiB of zeros without a line end (``.txt``), and on a CSV whose
second record is the same 2 GiB; its peak resident memory (``VmHWM``) is read from ``/proc``
every 20 ms while it runs. A run is stopped after ``--timeout`` seconds (the peak so far is
kept).

``--src`` runs the server and the command on another copy of the package (a checkout before
a change, say), so before and after come from the same script::

    python -m benchmarks.input_bounds [--src DIR] [--tfidf-bundle DIR] [--out PATH]

Writes ``benchmarks/results/input_bounds.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np

from benchmarks.machine import header
from benchmarks.serving_microbatch import free_port, register, start_server, train_default
from emotion_clf.config import Settings
from emotion_clf.data.loader import load_dataset

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "raw"
HOURS = 4
GIB = 1024**3


def silence(out: Path, seconds: float, *, rate: int = 8000, live: bool = False) -> Path:
    """Silent FLAC at a low rate (4 hours: under 3 MB); ``live`` Matroska declares no duration."""
    with av.open(str(out), "w", options={"live": "1"} if live else {}) as sink:
        stream = sink.add_stream("flac", rate=rate, layout="mono")
        done, block = 0, rate * 60
        while done < seconds * rate:
            frame = av.AudioFrame.from_ndarray(np.zeros((1, block), np.int16), layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, done, Fraction(1, rate)
            for packet in stream.encode(frame):
                sink.mux(packet)
            done += block
        for packet in stream.encode(None):
            sink.mux(packet)
    return out


def status_mib(pid: int, key: str) -> float:
    """``VmRSS`` or ``VmHWM`` of a process, from ``/proc`` (MiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def post_media(url: str, pid: int, path: Path) -> dict[str, Any]:
    """One ``POST /predict/media`` with the file as the body, and the server's memory."""
    before = status_mib(pid, "VmRSS")
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            samples.append(status_mib(pid, "VmRSS"))

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    try:
        answer = httpx.post(
            f"{url}/predict/media",
            content=path.read_bytes(),
            headers={"content-type": "audio/flac"},
            timeout=600,
        )
    finally:
        stop.set()
        sampler.join()
    seconds = time.perf_counter() - started
    return {
        "file_mib": round(path.stat().st_size / 2**20, 2),
        "status": answer.status_code,
        "detail": answer.json().get("detail"),
        "seconds": round(seconds, 3),
        "rss_before_mib": round(before, 1),
        "rss_growth_mib": round(max(samples, default=before) - before, 1),
    }


def audio_on_server(src: Path, bundle: Path, work: Path) -> dict[str, Any]:
    settings = Settings(home=work / "home", refresh_endpoints=[])
    register(settings, bundle)
    files = {
        "warm-up, 1 s": silence(work / "second.flac", 1),
        f"{HOURS} h, duration in the header": silence(work / "hours.flac", HOURS * 3600),
        f"{HOURS} h, no duration header": silence(work / "hours.mkv", HOURS * 3600, live=True),
    }
    port = free_port()
    process = start_server(
        work / "home",
        port,
        work / "server.log",
        {"PYTHONPATH": str(src), "EMOTION_CLF_POLL_S": "0"},
    )
    try:
        defaults = Settings(home=work / "home")
        results = {
            name: post_media(f"http://127.0.0.1:{port}", process.pid, path)
            for name, path in files.items()
        }
        return {"media_max_s": defaults.media.max_s, "requests": results}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def write_rows(path: Path, rows: int) -> Path:
    texts = load_dataset(DATA).texts
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i in range(rows):
            writer.writerow([i, texts[i % len(texts)]])
    return path


def sparse(path: Path, head: bytes, tail: bytes) -> Path:
    """``head``, 2 GiB of zeros without a line end (a hole: no disk used), then ``tail``."""
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(2 * GIB)
        handle.seek(0, os.SEEK_END)
        handle.write(tail)
    return path


def high_water_mib(pid: int) -> float:
    """A process's peak resident memory so far (``VmHWM``, MiB); 0 once it has exited. The
    kernel's ``ru_maxrss`` of a child would also count this script's memory, which the child
    shared until it started the command."""
    try:
        return status_mib(pid, "VmHWM")
    except (OSError, KeyError):
        return 0.0


def predict(src: Path, bundle: Path, source: Path, work: Path, timeout_s: float) -> dict[str, Any]:
    """The command in its own process: exit status, wall time, peak RSS, summary."""
    output = work / f"{source.stem}.out.csv"
    command = [str(Path(sys.executable).with_name("emotion-clf")), "predict"]
    command += ["--input-file", str(source), "--model", str(bundle)]
    command += ["--output", str(output), "--json"]
    env = {**os.environ, "PYTHONPATH": str(src), "EMOTION_CLF_HOME": str(work / "home")}
    started = time.perf_counter()
    peak, timed_out = 0.0, False
    with (work / "stdout.txt").open("wb") as out, (work / "stderr.txt").open("wb") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        while child.poll() is None:
            peak = max(peak, high_water_mib(child.pid))
            if time.perf_counter() - started > timeout_s:
                timed_out = True
                child.kill()
                child.wait()
            time.sleep(0.02)
    seconds = time.perf_counter() - started
    code = child.returncode
    result: dict[str, Any] = {
        "input_mib": round(source.stat().st_size / 2**20, 1),
        "exit": code,
        "timed_out": timed_out,
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(peak, 1),
    }
    if code == 0:
        summary = json.loads((work / "stdout.txt").read_text())
        result |= {"rows": summary["rows"], "bad_rows": summary["bad_rows"]}
        result["rejected"] = summary["bad_row_samples"][:3]
    else:
        result["stderr_tail"] = (work / "stderr.txt").read_text(errors="replace")[-500:]
    return result


def batch(src: Path, bundle: Path, work: Path, rows: int, timeout_s: float) -> dict[str, Any]:
    inputs = {
        f"{rows:,}-row CSV (baseline)": write_rows(work / "rows.csv", rows),
        "2 GiB one-line TXT": sparse(work / "one-line.txt", b"", b""),
        "CSV with a 2 GiB record": sparse(work / "record.csv", b"text\nI love it\n", b"\nBye\n"),
    }
    return {name: predict(src, bundle, path, work, timeout_s) for name, path in inputs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the package to run")
    parser.add_argument("--tfidf-bundle", type=Path)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per command")
    parser.add_argument("--skip-server", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/input_bounds.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="emotion-clf-input-bounds-"))
    load_before = os.getloadavg()
    try:
        bundle = args.tfidf_bundle or train_default(work / "tfidf")
        audio = None if args.skip_server else audio_on_server(args.src, bundle, work)
        commands = batch(args.src, bundle, work, args.rows, args.timeout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    document = {
        **header(__file__, load_before),
        "src": str(args.src.relative_to(ROOT) if args.src.is_relative_to(ROOT) else args.src),
        "audio_on_server": audio,
        "predict_input_file": commands,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    if audio is not None:
        print(f"POST /predict/media (limit {audio['media_max_s']:g} s), the server's memory:")
        print("| audio | file MiB | status | seconds | RSS growth MiB |")
        print("|---|---|---|---|---|")
        for name, r in audio["requests"].items():
            print(
                f"| {name} | {r['file_mib']} | {r['status']} | {r['seconds']} | "
                f"{r['rss_growth_mib']} |"
            )
    print("emotion-clf predict --input-file, the command's memory:")
    print("| input | input MiB | exit | seconds | peak RSS MiB | rows | bad |")
    print("|---|---|---|---|---|---|---|")
    for name, r in commands.items():
        print(
            f"| {name} | {r['input_mib']} | {r['exit']}{' (timeout)' if r['timed_out'] else ''} "
            f"| {r['seconds']} | {r['peak_rss_mib']} | {r.get('rows', '-')} | "
            f"{r.get('bad_rows', '-')} |"
        )
    print(f"load average before/after: {document['machine']}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

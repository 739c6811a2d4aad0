"""Resident memory of a process that swaps models, as a server does on every promotion.

The soak of ``benchmarks.reliability`` once saw a minilm server's resident memory grow with
every swap, with no failed request. This script isolates the swap: it loads a bundle, predicts,
then loads it again N times, each time dropping the previous model, first as the server did
(drop only), then with what the server now does after a swap
(:func:`emotion_clf.serving.runtime.loading.release_freed_memory`: collect, then glibc's
``malloc_trim``), and with that release but tracing minilm's TorchScript graph again on every
load, as the runtime did before it kept one graph per architecture and process (every trace
left a compiled TorchScript type behind). Each variant runs in its own fresh process; RSS
comes from ``/proc``. The figure is the growth after the last swap, compared between the
variants of the run. Writes ``benchmarks/results/swap_memory.json`` and prints a table::

    python -m benchmarks.swap_memory --bundle DIR [--swaps 8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.machine import header

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

TEXTS = ["I can't believe we finally made it!", "Leave me alone.", "What a strange day."] * 11


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class _Forgetful(dict[str, Any]):
    """A graph cache that keeps nothing: every load traces again (the runtime before)."""

    def __setitem__(self, key: str, value: Any) -> None:
        pass


def child(bundle: Path, swaps: int, release: bool, retrace: bool) -> None:
    """One variant, in this process: prints the RSS after the first load and each swap."""
    from emotion_clf.models import load_bundle
    from emotion_clf.models.minilm import runtime
    from emotion_clf.serving.runtime.loading import release_freed_memory

    if retrace:
        runtime._GRAPHS = _Forgetful()

    model = load_bundle(bundle)
    model.predict_batch(TEXTS)
    figures = [rss_mib()]
    for _ in range(swaps):
        replacement = load_bundle(bundle)
        replacement.predict_batch(TEXTS)
        model = replacement
        del replacement
        if release:
            release_freed_memory()
        figures.append(rss_mib())
    print(json.dumps(figures))


VARIANTS = {  # name: --child flags
    "drop only": "drop",
    "release_freed_memory, trace every load (before)": "release,retrace",
    "release_freed_memory, one traced graph per process (now)": "release",
}


def run_variant(bundle: Path, swaps: int, flags: str) -> list[float]:
    command = [sys.executable, "-m", "benchmarks.swap_memory", "--bundle", str(bundle.resolve())]
    command += ["--swaps", str(swaps), "--child", flags]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return [round(x, 1) for x in json.loads(done.stdout.strip().splitlines()[-1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--swaps", type=int, default=8)
    parser.add_argument("--child", choices=sorted(set(VARIANTS.values())))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "swap_memory.json")
    args = parser.parse_args()
    if args.child:
        flags = args.child.split(",")
        child(args.bundle, args.swaps, "release" in flags, "retrace" in flags)
        return
    load_before = os.getloadavg()
    variants: dict[str, Any] = {}
    for name, flags in VARIANTS.items():
        figures = run_variant(args.bundle, args.swaps, flags)
        variants[name] = {
            "rss_mib": figures,
            "first_load_mib": figures[0],
            "after_last_swap_mib": figures[-1],
            "growth_mib": round(figures[-1] - figures[0], 1),
        }
    document = {
        **header(__file__, load_before),
        "bundle": str(args.bundle),
        "swaps": args.swaps,
        "variants": variants,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"| after a swap | RSS after the first load (MiB) | after {args.swaps} swaps | growth |")
    print("|---|---|---|---|")
    for name, v in variants.items():
        print(
            f"| {name} | {v['first_load_mib']} | {v['after_last_swap_mib']} | {v['growth_mib']} |"
        )
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

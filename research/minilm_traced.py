"""The bf16 path traced into a TorchScript graph against the same path in eager PyTorch.

    python -m research.minilm_traced --bundle MINILM [--rounds 5] [--out FILE]

One process, the two paths interleaved round by round (a neighbour's load hits both alike),
over the first 1,024 test sentences in data order at batch sizes 1, 8, 32 and 128: sentences
per second (median of the rounds), and whether the two give the same logits. The run that
decided it: ``research/results/minilm_traced.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()

    from emotion_clf.data import load_dataset, split_by_batch
    from emotion_clf.models.bundle import load_bundle
    from emotion_clf.models.minilm import runtime as rt

    model = load_bundle(args.bundle)
    dataset = load_dataset(ROOT / "data" / "raw")
    test = split_by_batch(dataset).test
    texts = list(test.texts[:1024])
    traced = rt.Runtime(
        model.module_, model.tokenizer_, name=rt.BF16_RUNTIME, max_length=64, batch_size=128
    )
    eager = copy.copy(traced)
    eager.module = copy.deepcopy(model.module_).to(torch.bfloat16).eval()
    assert isinstance(traced.module, torch.jit.ScriptModule), "tracing failed: see the log"
    same = all(
        np.array_equal(a, b)
        for a, b in zip(traced.logits(texts).values(), eager.logits(texts).values(), strict=True)
    )
    sizes = (1, 8, 32, 128)
    rates: dict[str, dict[int, list[float]]] = {"eager": {}, "traced": {}}
    for _ in range(args.rounds):
        for name, path in (("eager", eager), ("traced", traced)):
            for size in sizes:
                n = 128 if size == 1 else len(texts)
                started = time.perf_counter()
                for start in range(0, n, size):
                    path.logits(texts[start : start + size])
                rates[name].setdefault(size, []).append(n / (time.perf_counter() - started))
    medians = {name: {s: statistics.median(v) for s, v in by.items()} for name, by in rates.items()}
    print("| path | " + " | ".join(f"b={s}" for s in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for name in ("eager", "traced"):
        print(f"| {name} | " + " | ".join(f"{medians[name][s]:,.0f}" for s in sizes) + " |")
    print(
        "| traced / eager | "
        + " | ".join(f"{medians['traced'][s] / medians['eager'][s]:.2f}x" for s in sizes)
        + " |"
    )
    print(f"\nsame logits on {len(texts)} test sentences: {same}")
    if args.out is None:
        return
    args.out.write_text(
        json.dumps(
            {
                "command": f"python -m research.minilm_traced --bundle {args.bundle}",
                "rounds": args.rounds,
                "sentences": len(texts),
                "sentences_per_s": medians,
                "same_logits": same,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

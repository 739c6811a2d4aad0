"""What one forward pass of a minilm bundle costs, in padded tokens: ``batching.PASS_TOKENS``.

A batch padded to its longest sentence pays for every padded token, and a batch cut in two
pays for one more pass. ``batching.sorted_batches`` cuts a batch where a pass of its own costs
less than the padding it saves, so it needs the price of a pass in tokens. This measures the
shipped runtime (``runtime="auto"``) on random token ids, rows x length from 1 x 8 to 32 x 64,
fits ``ms = a + b * padded tokens`` and reports ``a / b``; then batch-32 throughput on the test
sentences with the batch cut only at 32 rows against cut where cheaper, interleaved, so the
constant is checked by what it buys. Rerun it when the runtime changes, and set
``PASS_TOKENS`` from it. Writes ``benchmarks/results/minilm_pass_cost.json``::

    python -m benchmarks.minilm_pass_cost --bundle /tmp/minilm-default [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from benchmarks.machine import header
from benchmarks.minilm_speed import throughput

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", required=True, help="a trained minilm bundle folder")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "minilm_pass_cost.json")
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    load_before = os.getloadavg()

    import numpy as np
    import torch

    from emotion_clf.data.loader import load_dataset
    from emotion_clf.data.split import split_by_batch
    from emotion_clf.models.bundle import load_bundle
    from emotion_clf.models.minilm.batching import PASS_TOKENS

    model = load_bundle(args.bundle).with_runtime("auto")
    engine = model._engine()
    shapes = [(n, length) for length in (8, 16, 32, 64) for n in (1, 4, 8, 16, 32)]
    times: dict[tuple[int, int], list[float]] = {shape: [] for shape in shapes}
    generator = torch.Generator().manual_seed(0)
    for _ in range(args.repeats):
        for n, length in shapes:
            ids = torch.randint(1000, 20000, (n, length), generator=generator)
            mask = torch.ones(n, length, dtype=torch.long)
            engine._run(ids, mask)
            started = time.perf_counter()
            for _ in range(5):
                engine._run(ids, mask)
            times[(n, length)].append((time.perf_counter() - started) / 5 * 1000)
    tokens = np.array([n * length for n, length in shapes], dtype=float)
    ms = np.array([statistics.median(times[shape]) for shape in shapes])
    slope, intercept = np.polyfit(tokens, ms, 1)
    test = split_by_batch(load_dataset(HERE.parent / "data" / "raw")).test
    texts = test.texts[:1024]
    rates: dict[str, list[float]] = {"cut at 32 rows": [], f"cut where cheaper ({PASS_TOKENS})": []}
    for _ in range(args.repeats):
        for name, setting in zip(rates, (None, PASS_TOKENS), strict=True):
            engine.pass_tokens = setting
            rates[name].append(throughput(model, texts, 32))
    results = {
        **header(__file__, load_before),
        "runtime": engine.name,
        "torch_threads": torch.get_num_threads(),
        "pass_ms": {f"{n}x{length}": statistics.median(times[(n, length)]) for n, length in shapes},
        "fit": {"ms_per_pass": intercept, "ms_per_token": slope, "pass_tokens": intercept / slope},
        "batch32_sentences_per_second": {k: statistics.median(v) for k, v in rates.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{engine.name}, {torch.get_num_threads()} threads")
    print("| rows x length | ms per pass |\n|---|---:|")
    for shape, value in results["pass_ms"].items():
        print(f"| {shape} | {value:.2f} |")
    fit = results["fit"]
    print(
        f"fit: {fit['ms_per_pass']:.2f} ms per pass + {fit['ms_per_token']:.4f} ms per padded "
        f"token: a pass costs {fit['pass_tokens']:.0f} tokens (PASS_TOKENS = {PASS_TOKENS})"
    )
    for name, value in results["batch32_sentences_per_second"].items():
        print(f"batch 32, {name}: {value:,.0f} sentences/s")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

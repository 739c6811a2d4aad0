"""Batches for minilm's inference paths: rows of similar length together, cut where one more
forward pass is cheaper than padding (:func:`sorted_batches`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# What one more forward pass costs, in padded tokens (the fixed cost of a pass over the cost of
# one padded token): `python -m benchmarks.minilm_pass_cost` fits it on the traced graph and
# writes benchmarks/results/minilm_pass_cost.json
PASS_TOKENS = 66


def sorted_batches(
    lengths: Sequence[int], *, batch_size: int, pass_tokens: float | None = None
) -> list[np.ndarray]:
    """Row indices in batches of at most ``batch_size``, rows of similar length together.

    The order is by length (stable), so the batching is a pure function of the lengths. With
    ``pass_tokens``, each block of ``batch_size`` rows is cut further where that is cheaper:
    a pass costs its rows times its longest row plus ``pass_tokens``, so one long sentence no
    longer pads thirty short ones to its length (:func:`cheapest_cuts`).
    """
    by_length = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(by_length, kind="stable")
    out: list[np.ndarray] = []
    for start in range(0, len(order), batch_size):
        block = order[start : start + batch_size]
        if pass_tokens is None:
            out.append(block)
        else:
            out.extend(block[a:b] for a, b in cheapest_cuts(by_length[block], pass_tokens))
    return out


def cheapest_cuts(lengths: np.ndarray, pass_tokens: float) -> list[tuple[int, int]]:
    """Cut ascending ``lengths`` into runs ``[a, b)`` so that the sum over runs of
    ``(b - a) * lengths[b - 1] + pass_tokens`` is least (exact, by dynamic programming)."""
    n = len(lengths)
    best = np.zeros(n + 1)
    begin = np.zeros(n + 1, dtype=np.int64)
    for end in range(1, n + 1):
        starts = np.arange(end)
        costs = best[:end] + (end - starts) * lengths[end - 1] + pass_tokens
        k = int(np.argmin(costs))
        best[end], begin[end] = costs[k], k
    runs = []
    end = n
    while end > 0:
        runs.append((int(begin[end]), end))
        end = int(begin[end])
    return runs[::-1]

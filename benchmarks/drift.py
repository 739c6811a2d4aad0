"""Does the drift check work on real shifts, without false alarms? Measured on the bundled data.

A model is trained as ``emotion-clf train`` trains it, except that the slice held out of every
training batch is twice the usual (16% instead of 8%) and cut in two halves: one builds the
reference profile (with the same function training uses), the other is a pool of *fresh* rows:
rows of the reference's own batches that neither the model nor the profile has seen.

- shift: the test batches (shows never seen in training) against the reference, once;
- no shift: ``--resamples`` draws of ``--rows`` fresh rows, each against the reference.

It also reports the other no-shift case worth knowing: rows the model *trained on*, against
the same reference (its predictions there are overconfident, so some signals flag them).
Writes ``benchmarks/results/drift.json`` and prints a table::

    python -m benchmarks.drift [--family tfidf] [--resamples 100] [--rows 500]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from emotion_clf.batch.run import LocalScorer
from emotion_clf.data import load_dataset, split_by_batch
from emotion_clf.data.split import reference_slice
from emotion_clf.monitoring.drift import DriftPolicy, check_drift
from emotion_clf.monitoring.drift_runs import scored_current
from emotion_clf.training import profile_of, train_model

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

DATA = ROOT / "data" / "raw"


def flags(report: Any) -> dict[str, bool]:
    return {s.name: s.drifted for s in report.signals}


def no_shift(
    scorer: LocalScorer, reference: Any, pool: list[str], rows: int, resamples: int, seed: int
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    per_signal: Counter[str] = Counter()
    flagged = 0
    for _ in range(resamples):
        chosen = rng.choice(len(pool), size=min(rows, len(pool)), replace=False)
        report = check_drift(reference, scored_current(scorer, [pool[i] for i in chosen], "fresh"))
        per_signal.update(name for name, f in flags(report).items() if f)
        flagged += report.drifted
    return {
        "resamples": resamples,
        "rows": rows,
        "flagged": flagged,
        "not_flagged": resamples - flagged,
        "flagged_by_signal": dict(per_signal),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", default="tfidf", choices=["tfidf", "minilm"])
    parser.add_argument("--resamples", type=int, default=100)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "drift.json")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # Evidently's and scikit-learn's chatter
    started = time.perf_counter()

    dataset = load_dataset(DATA)
    split = split_by_batch(dataset)
    fit_rows, held = reference_slice(split.train, fraction=0.16, seed=args.seed)
    halves = np.random.default_rng(args.seed).random(len(held)) < 0.5
    reference_rows, fresh_rows = held.subset(halves), held.subset(~halves)
    print(f"training {args.family} (fresh pool {len(fresh_rows)} rows) ...", flush=True)
    out = Path("/tmp") / f"emotion-clf-drift-{args.family}"
    result = train_model(args.family, data=DATA, out=out, seed=args.seed, reference_fraction=0.16)
    predictor = result.predictor
    reference = profile_of(predictor, reference_rows, description="half of the held-out slice")
    scorer = LocalScorer(predictor, label=args.family, version=None)

    test = check_drift(reference, scored_current(scorer, split.test.texts, "test batches"))
    validation = check_drift(
        reference, scored_current(scorer, split.validation.texts, "validation batches")
    )
    fresh = no_shift(scorer, reference, fresh_rows.texts, args.rows, args.resamples, args.seed + 1)
    trained = no_shift(
        scorer, reference, fit_rows.texts, args.rows, max(20, args.resamples // 5), args.seed + 2
    )
    policy = DriftPolicy()
    document = {
        "command": " ".join(["python", "-m", "benchmarks.drift", *sys.argv[1:]]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "family": args.family,
        "policy": {
            "alpha": policy.alpha,
            "p_threshold": policy.p_threshold,
            "text_auc": policy.text_auc,
        },
        "reference_rows": len(reference.texts),
        "shift": {
            "test batches": {
                "rows": test.current_rows,
                "drift": test.drifted,
                "signals": flags(test),
            },
            "validation batches": {
                "rows": validation.current_rows,
                "drift": validation.drifted,
                "signals": flags(validation),
            },
        },
        "no_shift_fresh_rows": fresh,
        "no_shift_trained_rows": trained,
        "seconds": round(time.perf_counter() - started, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print("| current | rows | flagged as drift |\n|---|---|---|")
    print(f"| test batches (new shows) | {test.current_rows} | {'yes' if test.drifted else 'no'} |")
    print(
        f"| validation batches (new shows) | {validation.current_rows} | "
        f"{'yes' if validation.drifted else 'no'} |"
    )
    print(
        f"| fresh rows of the reference's batches | {args.rows} x {fresh['resamples']} | "
        f"{fresh['flagged']} of {fresh['resamples']} |"
    )
    print(
        f"| rows the model trained on | {args.rows} x {trained['resamples']} | "
        f"{trained['flagged']} of {trained['resamples']} |"
    )
    print(f"signals flagged on the test batches: {[k for k, v in flags(test).items() if v]}")
    print(f"false alarms by signal (fresh rows): {fresh['flagged_by_signal']}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

"""Quality of the tfidf and minilm families on the test split grouped by batch.

Reports accuracy, macro-F1 and weighted-F1 per head on the test split (videos never seen in
training), and each family's two hierarchy decodings on the validation and test splits (the
default decoding is picked on validation). Trains a family with its default parameters unless
an existing bundle is given::

    python -m benchmarks.quality --tfidf-bundle models/tfidf --minilm-bundle /tmp/minilm-default

Writes ``benchmarks/results/quality.json`` and prints tables.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FAMILIES = ("tfidf", "minilm")


def bundle_for(family: str, given: Path | None, *, data: Path, seed: int, scratch: Path) -> Path:
    if given is not None:
        return given
    from emotion_clf.training import train_model

    out = scratch / family
    started = time.perf_counter()
    train_model(family, data=data, out=out, seed=seed)
    print(f"trained {family} in {time.perf_counter() - started:.0f}s -> {out}", file=sys.stderr)
    return out


def measure(bundle: Path, data: Path) -> dict[str, Any]:
    from emotion_clf.data.loader import load_dataset
    from emotion_clf.data.split import split_by_batch
    from emotion_clf.models import evaluate
    from emotion_clf.models.base import DECODINGS
    from emotion_clf.models.bundle import load_bundle, read_manifest

    split = split_by_batch(load_dataset(data))
    model = load_bundle(bundle)
    default = model.decoding
    manifest = read_manifest(bundle)
    out: dict[str, Any] = {
        "bundle": str(bundle),
        "runtime": manifest.runtime,
        "params": dict(manifest.params),
        "default_decoding": default,
        "test": evaluate(model, split.test).summary(),
        "decodings": {},
    }
    for decoding in DECODINGS:
        model.decoding = decoding
        out["decodings"][decoding] = {
            part: evaluate(model, split.part(part)).summary() for part in ("validation", "test")
        }
    model.decoding = default
    return out


def render(results: dict[str, Any]) -> str:
    lines = ["| family | head | accuracy | macro-F1 | weighted-F1 |", "|---|---|---|---|---|"]
    for family, r in results["families"].items():
        for head, m in r["test"].items():
            lines.append(
                f"| {family} | {head} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} "
                f"| {m['weighted_f1']:.3f} |"
            )
    lines += [
        "",
        "| family | decoding | part | emotion acc / macro-F1 | sub-emotion acc / macro-F1 |",
        "|---|---|---|---|---|",
    ]
    for family, r in results["families"].items():
        for decoding, parts in r["decodings"].items():
            for part, m in parts.items():
                e, s = m["emotion"], m["sub_emotion"]
                mark = " (default)" if decoding == r["default_decoding"] else ""
                lines.append(
                    f"| {family} | {decoding}{mark} | {part} | {e['accuracy']:.3f} / "
                    f"{e['macro_f1']:.3f} | {s['accuracy']:.3f} / {s['macro_f1']:.3f} |"
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tfidf-bundle", type=Path)
    parser.add_argument("--minilm-bundle", type=Path)
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--data", type=Path, default=HERE.parent / "data" / "raw")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "quality.json")
    args = parser.parse_args()
    given = {"tfidf": args.tfidf_bundle, "minilm": args.minilm_bundle}
    results: dict[str, Any] = {
        "command": " ".join(["python", "-m", "benchmarks.quality", *sys.argv[1:]]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "split": "test split grouped by batch (emotion_clf.data.split.split_by_batch)",
        "families": {},
    }
    with tempfile.TemporaryDirectory(prefix="quality-") as scratch:
        for family in args.families:
            bundle = bundle_for(
                family, given[family], data=args.data, seed=args.seed, scratch=Path(scratch)
            )
            results["families"][family] = measure(bundle, args.data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()

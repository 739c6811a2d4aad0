"""How well a training recipe does on unseen videos: grouped k-fold cross-validation over batches.

The 32 batches are dealt into ``--folds`` groups (sorted names shuffled with ``--seed``, dealt
round robin; ``--seed 0`` and 4 folds are the folds of every result in ``benchmarks/results``
and ``research/results``).
For each group a model is trained on all other batches (no validation split: every epoch is
trained and the last is kept, which is the epoch the default minilm run keeps anyway) and
scored on the held-out group. What is trained:

* ``--families tfidf minilm``: each family with its default parameters;
* ``--recipes plain transfer joint``: the minilm family with its defaults and the recipe's
  parameters (``plain``: transcripts only; ``transfer``: the GoEmotions transfer stage first;
  ``joint``: GoEmotions rows mixed into the transcript epochs; ``default``: the defaults as
  they are; ``distilled``: plain plus the soft labels of the ``--teacher-run``'s model of the
  same fold and seed), each with every training seed of ``--seeds``.

``--models-dir DIR`` keeps every trained model as a bundle (``DIR/<run>/seed<S>/fold<K>``);
the ``distilled`` recipe reads its teachers there, so the teacher runs first (``--families
teacher --recipes distilled`` in one call, or two calls with the same ``--models-dir``). The
teacher's outputs are cached per teacher bundle (``<cache-dir>/teacher-outputs``).

Each trained model is also scored on GoEmotions' own test split (single-label rows, our
sub-emotion -> emotion mapping): a second domain, chat-like text. The GoEmotions transfer
stage sees no transcript, so it is trained once per seed and cached (``<home>/.cache/transfer``).

Each fold's result is written to ``--out`` as soon as it finishes, and a run started again
with the same ``--out`` and settings skips what is there (``--fresh`` starts over), so a long
run can be stopped and continued. ``--report`` only prints the tables of an existing file::

    python -m benchmarks.quality_cv --families tfidf minilm --folds 4
    nohup python -m benchmarks.quality_cv --recipes plain transfer --seeds 0 1 2 \\
        --out /tmp/cv_goemotions.json > cv.log 2>&1 &
    python -m benchmarks.quality_cv --report --out /tmp/cv_goemotions.json
    python -m benchmarks.quality_cv --families teacher --recipes plain distilled \\
        --models-dir /tmp/cv_models --out /tmp/cv_teacher.json

A minilm fold trains for minutes on 2 CPU cores, so the whole run takes a while; the transfer
stage is trained once per seed on top. ``--device cuda`` trains on a GPU (scoring stays on the
CPU, as served): run one process per seed side by side, then ``--merge`` their files. The
tables and the judgement are in ``benchmarks.quality_cv_report``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.quality_cv_report import confusion, render

HERE = Path(__file__).resolve().parent

FAMILIES = ("tfidf", "minilm", "teacher")
# the families trained like minilm (a transformer encoder): the smoke and device options apply
ENCODER_FAMILIES = ("minilm", "teacher")
RECIPES: dict[str, dict[str, Any]] = {
    "default": {},
    "plain": {"goemotions": "none"},
    "transfer": {"goemotions": "transfer"},
    "joint": {"goemotions": "joint"},
    # plain, plus the soft labels of the teacher trained on the same fold and seed (from
    # --models-dir, the --teacher-run's bundles)
    "distilled": {"goemotions": "none"},
    # joint, every row (GoEmotions' too) with the teacher's soft labels as well
    "distilled_joint": {"goemotions": "joint"},
}
DISTILLED = ("distilled", "distilled_joint")
HEADS = ("emotion", "sub_emotion", "intensity")
# what must match for a run to continue an existing results file
SETTINGS_KEYS = ("protocol", "folds", "fold_seed", "max_steps", "device", "data_fingerprint")


def deal_folds(batches: list[str], *, folds: int, seed: int) -> list[list[str]]:
    order = sorted(batches)
    random.Random(seed).shuffle(order)
    return [sorted(order[k::folds]) for k in range(folds)]


def head_metrics(evaluation: Any) -> dict[str, dict[str, float]]:
    return {
        head: {"accuracy": evaluation[head].accuracy, "macro_f1": evaluation[head].macro_f1}
        for head in HEADS
    }


def row_folds(n_rows: int, *, folds: int, seed: int) -> np.ndarray:
    """Fold number per row, at random: the leaky protocol (neighbouring lines of one video
    land in training and test), only to compare with numbers measured that way."""
    return np.random.default_rng(seed).integers(0, folds, size=n_rows)


def goemotions_scores(model: Any, rows: Any) -> dict[str, Any]:
    """Confusion matrices of the emotion and sub-emotion heads on GoEmotions rows."""
    from emotion_clf.evaluation import label_indices

    batch = model.predict_batch(rows.texts)
    out: dict[str, Any] = {"rows": len(rows)}
    for head in ("emotion", "sub_emotion"):
        labels = model.schema.labels(head)
        truth = label_indices(rows.frame[head].tolist(), labels, head=head)
        out[head] = confusion(truth, batch.indices[head], len(labels))
    return out


def run_fold(
    family: str,
    params: dict[str, Any],
    dataset: Any,
    mask: np.ndarray,
    *,
    sources: Any,
    goemotions_test: Any,
    whole_batches: bool,
    keep: Path | None = None,
) -> dict[str, Any]:
    from emotion_clf.models import evaluate
    from emotion_clf.models.bundle import family_class, save_bundle

    held = sorted(dataset.frame.loc[mask, "batch"].unique().tolist())
    train, test = dataset.subset(~mask), dataset.subset(mask)
    started = time.perf_counter()
    model = family_class(family)(**params).fit(train, sources=sources)
    seconds = time.perf_counter() - started
    if keep is not None:
        save_bundle(model, keep, data_fingerprint=train.fingerprint())
    evaluation = evaluate(model, test)
    correct = evaluation["emotion"].correct
    # under the row protocol a batch's rows are spread over the folds: no per-batch score
    per_batch = {
        str(batch): float(correct[rows].mean())
        for batch, rows in test.frame.groupby("batch").indices.items()
        if whole_batches
    }
    entry: dict[str, Any] = {
        "held_out_batches": held,
        "train_rows": len(train),
        "test_rows": len(test),
        "train_seconds": round(seconds, 1),
        "metrics": head_metrics(evaluation),
        "confusion": {
            h: confusion(evaluation[h].y_true, evaluation[h].y_pred, len(evaluation[h].labels))
            for h in HEADS
        },
        "emotion_accuracy_per_batch": per_batch,
    }
    record = getattr(model, "goemotions_", None)
    if record and "transfer" in record:
        stage = record["transfer"]
        entry["transfer_stage"] = {k: stage[k] for k in ("key", "cached", "seconds")}
    if goemotions_test is not None and family in ENCODER_FAMILIES:
        entry["goemotions_test"] = goemotions_scores(model, goemotions_test)
    return entry


def fold_teacher(bundle: Path, *, cache: Path | None) -> Any:
    """The teacher of one fold: the teacher run's bundle of that fold and seed."""
    from emotion_clf.config import get_settings
    from emotion_clf.models.base import TeacherSource
    from emotion_clf.models.bundle import MANIFEST, bundle_digest, load_bundle

    if not (bundle / MANIFEST).is_file():
        raise SystemExit(
            f"no teacher bundle at {bundle}: run the teacher on this fold and seed first, "
            "with the same --models-dir"
        )
    return TeacherSource(
        predictor=load_bundle(bundle),
        key=bundle_digest(bundle),
        label=str(bundle),
        cache_dir=cache / "teacher-outputs" if cache else get_settings().teacher_outputs_dir,
    )


def write_results(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(results, indent=1) + "\n")
    os.replace(temp, path)


def plan_runs(args: argparse.Namespace) -> list[tuple[str, str, dict[str, Any], int]]:
    """(label, family, parameters, seed) for every model setting to cross-validate."""
    smoke: dict[str, Any] = {}
    if args.max_steps:
        smoke = {"max_steps": args.max_steps, "goemotions_max_steps": args.max_steps}
    if args.threads:
        smoke["threads"] = args.threads
    if args.device:
        smoke["device"] = args.device
    runs = []
    for seed in args.seeds:
        for family in args.families or []:
            params = {"seed": seed, **(smoke if family in ENCODER_FAMILIES else {})}
            runs.append((family, family, params, seed))
        for recipe in args.recipes or []:
            params = {**RECIPES[recipe], **smoke, "seed": seed}
            label = recipe
            if recipe in DISTILLED:
                from emotion_clf.models.minilm.model import DEFAULT_PARAMS

                setting = {
                    "distill_temperature": args.distill_temperature
                    or DEFAULT_PARAMS["distill_temperature"],
                    "distill_weight": args.distill_weight or DEFAULT_PARAMS["distill_weight"],
                }
                params.update(setting)
                if any(setting[k] != DEFAULT_PARAMS[k] for k in setting):
                    # another setting is another run: results of both stay side by side
                    label = (
                        f"{recipe}-t{setting['distill_temperature']:g}"
                        f"-w{setting['distill_weight']:g}"
                    )
            runs.append((label, "minilm", params, seed))
    return runs


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", nargs="+", choices=FAMILIES)
    parser.add_argument("--recipes", nargs="+", choices=list(RECIPES), help="minilm recipes")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds")
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument(
        "--seed",
        "--fold-seed",
        dest="fold_seed",
        type=int,
        default=0,
        help="deals the batches into folds (0: the folds of every earlier result)",
    )
    parser.add_argument(
        "--protocol",
        choices=("batch", "row"),
        default="batch",
        help="batch: whole videos per fold (the honest one); row: rows at random (leaky)",
    )
    parser.add_argument("--only-folds", type=int, nargs="+", help="run only these folds")
    parser.add_argument("--max-steps", type=int, help="cap minilm training (smoke runs only)")
    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads per minilm training (default: one per core); on a shared machine "
        "two runs of 1 thread (see --merge) waste less than one of 2",
    )
    parser.add_argument(
        "--device",
        help="train minilm on this torch device (cuda on a GPU machine; default the CPU); "
        "scoring stays on the CPU, as served. A GPU's results go in their own --out",
    )
    parser.add_argument("--data", type=Path, default=HERE.parent / "data" / "raw")
    parser.add_argument("--goemotions", type=Path, default=HERE.parent / "data" / "goemotions")
    parser.add_argument("--cache-dir", type=Path, help="transfer cache (default: the workspace's)")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--models-dir",
        type=Path,
        help="keep each trained model as a bundle, <dir>/<run>/seed<S>/fold<K>",
    )
    parser.add_argument("--fresh", action="store_true", help="discard the results in --out")
    parser.add_argument("--report", action="store_true", help="print the tables of --out only")
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        help="write the runs of these results files (same folds and data) into --out, report",
    )
    parser.add_argument("--baseline", default="plain", help="recipe the others are judged against")
    parser.add_argument(
        "--teacher-run",
        default="teacher",
        help="distilled: the run whose bundle of the same seed and fold teaches (--models-dir)",
    )
    parser.add_argument(
        "--distill-temperature", type=float, help="distilled: default the family's (2)"
    )
    parser.add_argument(
        "--distill-weight", type=float, help="distilled: default the family's (0.5)"
    )
    args = parser.parse_args()
    if set(args.recipes or []) & set(DISTILLED) and args.models_dir is None:
        parser.error("--recipes distilled needs --models-dir, where the teacher runs' bundles are")
    if args.out is None:
        if args.max_steps or args.report or args.merge:
            parser.error("--max-steps, --report and --merge need --out")
        args.out = HERE / "results" / "quality_cv.json"
    if not (args.report or args.merge) and not (args.families or args.recipes):
        args.families = ["tfidf", "minilm"]  # the teacher needs `make teacher` first
    return args


def merge(paths: list[Path]) -> dict[str, Any]:
    """One results document from several runs of the script (run side by side, say)."""
    merged: dict[str, Any] = {}
    for path in paths:
        part = json.loads(path.read_text())
        if merged and any(part.get(k) != merged.get(k) for k in SETTINGS_KEYS):
            raise SystemExit(f"{path} was run with other {', '.join(SETTINGS_KEYS)}")
        runs = merged.setdefault("runs", {})
        merged.update({k: v for k, v in part.items() if k != "runs"})
        merged.setdefault("commands", []).append(part["command"])
        for label, run in part["runs"].items():
            target = runs.setdefault(label, {**run, "seeds": {}})
            if target["params"] != run["params"]:
                raise SystemExit(f"{path}: run {label} has other parameters than before")
            for seed, folds in run["seeds"].items():
                twice = set(target["seeds"].get(seed, {})) & set(folds)
                if twice:
                    raise SystemExit(f"{path}: {label} seed {seed} fold(s) {sorted(twice)} twice")
                target["seeds"].setdefault(seed, {}).update(folds)
    merged.pop("command", None)
    return merged


def main() -> None:
    args = parse_args()
    if args.merge:
        results = merge(args.merge)
        write_results(args.out, results)
        print(render(results, baseline=args.baseline))
        print(f"\nwritten to {args.out}")
        return
    if args.report:
        print(render(json.loads(args.out.read_text()), baseline=args.baseline))
        return

    from emotion_clf.config import get_settings
    from emotion_clf.data import load_dataset, split_by_batch
    from emotion_clf.data.goemotions import load_goemotions
    from emotion_clf.models.base import TrainingSources

    dataset = load_dataset(args.data)
    n_batches = dataset.frame["batch"].nunique()
    if not 2 <= args.folds <= n_batches:
        raise SystemExit(f"--folds must be between 2 and the number of batches ({n_batches})")
    if args.only_folds and not set(args.only_folds) <= set(range(args.folds)):
        raise SystemExit(f"--only-folds takes fold numbers from 0 to {args.folds - 1}")
    split = split_by_batch(dataset)
    groups: list[list[str]] = []
    if args.protocol == "batch":
        groups = deal_folds(
            sorted(dataset.frame["batch"].unique().tolist()), folds=args.folds, seed=args.fold_seed
        )
        masks = [dataset.frame["batch"].isin(g).to_numpy() for g in groups]
    else:
        fold_of = row_folds(len(dataset), folds=args.folds, seed=args.fold_seed)
        masks = [fold_of == k for k in range(args.folds)]
    wanted = set(args.only_folds or range(args.folds))
    settings_now = {
        "protocol": args.protocol,
        "folds": args.folds,
        "fold_seed": args.fold_seed,
        "max_steps": args.max_steps,
        "device": args.device,
        "data_fingerprint": dataset.fingerprint(),
    }
    results: dict[str, Any] = {}
    if args.out.is_file() and not args.fresh:
        results = json.loads(args.out.read_text())
        differing = [k for k in SETTINGS_KEYS if results.get(k) != settings_now[k]]
        if differing:
            raise SystemExit(
                f"{args.out} holds a run with other {', '.join(differing)}; "
                "use another --out, or --fresh to discard it"
            )
    results.update(settings_now)
    results["command"] = " ".join(["python", "-m", "benchmarks.quality_cv", *sys.argv[1:]])
    if results["command"] not in results.setdefault("commands", []):
        results["commands"].append(results["command"])  # every call that added to the file
    results["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["held_out_per_fold"] = groups
    results["fixed_test_split"] = sorted(
        b for b, part in split.assignment.items() if part == "test"
    )
    results.setdefault("runs", {})
    needs_goemotions = bool(args.recipes) or bool(set(ENCODER_FAMILIES) & set(args.families or []))
    goemotions_test = load_goemotions(args.goemotions, split="test") if needs_goemotions else None
    sources = TrainingSources(
        goemotions=args.goemotions,
        cache_dir=args.cache_dir or get_settings().transfer_cache_dir,
        backbones_dir=get_settings().backbones_dir,
    )
    for label, family, params, seed in plan_runs(args):
        run = results["runs"].setdefault(label, {"family": family, "seeds": {}})
        run["params"] = {k: v for k, v in params.items() if k != "seed"}
        folds = run["seeds"].setdefault(str(seed), {})
        for k, mask in enumerate(masks):
            if k not in wanted or not mask.any() or str(k) in folds:
                continue
            print(f"{label} seed {seed} fold {k}: training", file=sys.stderr, flush=True)
            fold_sources = sources
            if label.split("-")[0] in DISTILLED:
                run["teacher_run"] = args.teacher_run
                teacher = args.models_dir / args.teacher_run / f"seed{seed}" / f"fold{k}"
                fold_sources = replace(sources, teacher=fold_teacher(teacher, cache=args.cache_dir))
            entry = run_fold(
                family,
                params,
                dataset,
                mask,
                sources=fold_sources,
                goemotions_test=goemotions_test,
                whole_batches=args.protocol == "batch",
                keep=args.models_dir / label / f"seed{seed}" / f"fold{k}"
                if args.models_dir
                else None,
            )
            folds[str(k)] = entry
            write_results(args.out, results)
            print(
                f"{label} seed {seed} fold {k}: emotion accuracy "
                f"{entry['metrics']['emotion']['accuracy']:.3f} / macro-F1 "
                f"{entry['metrics']['emotion']['macro_f1']:.3f} "
                f"({entry['train_seconds']:.0f}s training)",
                file=sys.stderr,
                flush=True,
            )
    write_results(args.out, results)
    print(render(results, baseline=args.baseline))
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()

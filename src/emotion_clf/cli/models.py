"""``train`` and ``evaluate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emotion_clf.cli.output import (
    console,
    count_progress,
    describe_dataset,
    fraction_progress,
    info,
    print_json,
    say_if_created,
    show_evaluation,
)
from emotion_clf.config import get_settings
from emotion_clf.data.loader import load_dataset
from emotion_clf.data.split import SPLIT_NAMES, split_by_batch
from emotion_clf.errors import DataError
from emotion_clf.models import FAMILIES, evaluate
from emotion_clf.registry import open_registry, resolve_model, teacher_source
from emotion_clf.training import (
    check_teacher,
    default_bundle_dir,
    family_params,
    train_model,
    training_sources,
)

ModelOption = Annotated[
    str,
    typer.Option(
        "--model",
        "-m",
        help="A bundle folder, baseline, dynamic or a registry version number.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def train(
    family: Annotated[str, typer.Option(help=f"Model family: {', '.join(FAMILIES)}.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Bundle folder to write (default: <home>/models/<family>-<time>)."),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="A labelled CSV file or a folder of them (default: data/raw)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same model.")] = 0,
    epochs: Annotated[int | None, typer.Option(help="[minilm] training epochs.")] = None,
    lr: Annotated[float | None, typer.Option(help="[minilm] peak learning rate.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="[minilm] training batch size.")] = None,
    max_steps: Annotated[
        int | None, typer.Option(help="[minilm] stop after this many steps.")
    ] = None,
    goemotions: Annotated[
        str | None,
        typer.Option(
            help="[minilm] GoEmotions (data/goemotions): none, transfer (a cached first "
            "stage) or joint (mixed into the epochs); default: the family's."
        ),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            help="[minilm] where training runs: cpu (default) or cuda[:N] on a machine with a "
            "GPU; the bundle is the same kind either way and is served on the CPU."
        ),
    ] = None,
    teacher: Annotated[
        str | None,
        typer.Option(
            help="[minilm] distil from this model (a bundle folder, baseline, dynamic or a "
            "version; typically a trained teacher): its soft labels join the gold labels."
        ),
    ] = None,
    distill_temperature: Annotated[
        float | None,
        typer.Option(min=0.01, help="[minilm --teacher] temperature of the soft labels."),
    ] = None,
    distill_weight: Annotated[
        float | None,
        typer.Option(
            min=0.01, max=1.0, help="[minilm --teacher] the soft labels' share of the loss."
        ),
    ] = None,
    register: Annotated[
        bool, typer.Option(help="Log an MLflow run and register the bundle as the new dynamic.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Train a model family on labelled data and write a verified bundle."""
    settings = get_settings()
    params = family_params(
        family,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        max_steps=max_steps,
        goemotions=goemotions,
        device=device,
        distill_temperature=distill_temperature,
        distill_weight=distill_weight,
    )
    check_teacher(family, teacher, params)
    source = teacher_source(teacher, settings=settings) if teacher else None
    out = out or default_bundle_dir(family, models_dir=settings.models_dir)
    with fraction_progress(f"train {family}") as progress:
        result = train_model(
            family,
            data=data or settings.raw_data_dir,
            out=out,
            seed=seed,
            params=params,
            progress=progress,
            sources=training_sources(settings, teacher=source),
        )
    version = None
    if register:
        registry = open_registry(settings, create=True)
        version = registry.register(result).version
        say_if_created(registry)
    if json_output:
        print_json(
            {
                "bundle": str(result.bundle),
                "version": int(version) if version else None,
                "seconds": round(result.seconds, 1),
                "metrics": result.metrics,
            }
        )
        return
    info(
        f"trained {family} in {result.seconds:.1f}s on {describe_dataset(result.dataset.summary())}"
    )
    for name, evaluation in result.evaluations.items():
        show_evaluation(evaluation, title=f"{name} split", details=False)
    if not result.evaluations:
        info("fewer than 3 batch files: no held-out split, so no metrics were recorded")
    console.print(f"bundle written to [bold]{result.bundle}[/]")
    if version:
        console.print(f"registered as version [bold]{version}[/], designated dynamic")


def evaluate_command(
    model: ModelOption,
    data: Annotated[Path, typer.Option(help="A labelled CSV file or a folder of them.")],
    split: Annotated[
        str,
        typer.Option(help="Rows to score: all, or one split of the data grouped by batch."),
    ] = "all",
    json_output: JsonOption = False,
) -> None:
    """Score a model on labelled data: accuracy, macro/weighted F1, per-class, confusion."""
    settings = get_settings()
    dataset = load_dataset(data)
    if split != "all":
        if split not in SPLIT_NAMES:
            raise DataError(
                f"unknown split {split!r}", field="split", allowed=["all", *SPLIT_NAMES]
            )
        dataset = split_by_batch(dataset).part(split)
    resolved = resolve_model(model, settings=settings)
    predictor = resolved.load()
    with count_progress("evaluating", len(dataset)) as advance:
        evaluation = evaluate(predictor, dataset, progress=advance)
    if json_output:
        print_json(evaluation.to_dict())
        return
    if dataset.skipped_empty or dataset.skipped_unlabelled:
        skipped = f"{dataset.skipped_empty} empty and {dataset.skipped_unlabelled} unlabelled"
        info(f"skipped {skipped} rows")
    show_evaluation(
        evaluation, title=f"{resolved.label} on {data}" + ("" if split == "all" else f" [{split}]")
    )


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command("evaluate")(evaluate_command)

"""``predict``: texts on the command line, or batch inference over files, URLs and media."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emotion_clf.batch.inputs import (
    SourceReader,
    check_sources,
    clean_workdir,
    count_rows,
    is_url,
)
from emotion_clf.batch.run import (
    ON_ERROR,
    ApiScorer,
    BatchSummary,
    LocalScorer,
    Scorer,
    run_batch,
)
from emotion_clf.cli.health import parse_headers
from emotion_clf.cli.output import (
    console,
    info,
    print_json,
    show_predictions,
    warn,
)
from emotion_clf.cli.progress import row_progress
from emotion_clf.client import ApiClient
from emotion_clf.config import Settings, get_settings
from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError
from emotion_clf.models.base import HeadPrediction, Prediction
from emotion_clf.registry import resolve_model

ModelOption = Annotated[
    str,
    typer.Option(
        "--model",
        "-m",
        help="A bundle folder, baseline, dynamic or a registry version number.",
    ),
]


def default_output(sources: list[str], settings: Settings) -> Path:
    first = (
        sources[0].rstrip("/").rsplit("/", 1)[-1] if is_url(sources[0]) else Path(sources[0]).stem
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return settings.monitoring_dir / "batch" / f"{Path(first).stem or 'input'}-{stamp}.csv"


def show_summary(summary: BatchSummary) -> None:
    table = Table(title=f"{summary.rows} rows classified by {summary.model}", title_justify="left")
    for column in (
        "source",
        "rows",
        "bad",
        "dominant",
        "top shares",
        "mean intensity",
        "by duration",
    ):
        table.add_column(column, overflow="fold")
    for source in summary.sources.values():
        d = source.to_dict()
        shares = sorted(d["shares"].items(), key=lambda kv: -kv[1])[:3]
        durations = d.get("duration_shares")
        by_duration = (
            ", ".join(
                f"{e} {v:.0%}" for e, v in sorted(durations.items(), key=lambda kv: -kv[1])[:2]
            )
            if durations
            else "-"
        )
        table.add_row(
            d["source"],
            str(d["rows"]),
            str(d["bad_rows"]),
            d["dominant_emotion"] or "-",
            ", ".join(f"{e} {v:.0%}" for e, v in shares if v),
            f"{d['mean_intensity']:.2f}" if d["mean_intensity"] is not None else "-",
            by_duration,
        )
    console.print(table)
    rate = summary.rows / summary.seconds if summary.seconds else 0
    info(
        f"{summary.rows} rows in {summary.seconds:.1f} s ({rate:.0f} rows/s); "
        f"written to {summary.output}"
    )
    if summary.bad_count:
        warn(f"{summary.bad_count} bad row(s) skipped, each listed in {summary.rejected}")
        for bad in summary.bad_rows[:10]:
            warn(bad.describe())


def predict(
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to classify.")] = None,
    model: ModelOption = "baseline",
    input_file: Annotated[
        list[str] | None,
        typer.Option(
            "--input-file",
            "-i",
            help="CSV, JSONL, text, SRT, WebVTT, audio or video, a list file (.list) of such "
            "paths, or an http(s) URL of any of them; repeat for several.",
        ),
    ] = None,
    text_column: Annotated[
        str, typer.Option(help="[CSV, JSONL] the field with the text.")
    ] = "text",
    output: Annotated[
        Path | None,
        typer.Option(
            help="Where predictions go: .csv, .jsonl or .parquet "
            "(default: a CSV under monitoring/batch/)."
        ),
    ] = None,
    api: Annotated[
        str | None, typer.Option(help="Send rows to a running server instead of loading a model.")
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option(help="[--api] 'Name: value' sent with each request.")
    ] = None,
    on_error: Annotated[
        str,
        typer.Option(
            help=f"A bad row: {' (skip it, counted and listed) or '.join(ON_ERROR)} (stop)."
        ),
    ] = "skip",
    chunk_size: Annotated[int, typer.Option(help="Rows per call to the model.")] = 1024,
    max_media_seconds: Annotated[
        float | None, typer.Option(help="Refuse audio or video longer than this.")
    ] = None,
    distributions: Annotated[
        bool, typer.Option(help="[texts] each head's full probability distribution.")
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Predict emotion, sub-emotion and intensity: for texts given here, or (--input-file)
    for every row of files, URLs, transcripts and media, written to --output.

    With --json, one text prints one object and several a list; a batch prints its summary.
    """
    settings = get_settings()
    if texts and input_file:
        raise DataError("give texts or --input-file, not both", field="input-file")
    if not texts and not input_file:
        raise DataError("give one or more texts, or --input-file FILE", field="text")
    if chunk_size < 1:
        raise DataError("--chunk-size must be at least 1", field="chunk_size")
    if texts:
        _predict_texts(
            texts,
            model=model,
            api=api,
            headers=parse_headers(header or []),
            settings=settings,
            distributions=distributions,
            json_output=json_output,
        )
        return
    assert input_file is not None
    # a missing or unreadable file, or a CSV without the text column, is found before a
    # model loads (seconds for minilm), and is an error: exit 2 with the hint
    check_sources(
        input_file, text_column=text_column, max_record_bytes=settings.batch.max_record_bytes
    )
    scorer: Scorer
    if api:
        scorer = ApiScorer(api, headers=parse_headers(header or []))
    else:
        resolved = resolve_model(model, settings=settings)
        scorer = LocalScorer(resolved.load(), label=resolved.label, version=resolved.version)
    target = output or default_output(input_file, settings)
    workdir = Path(tempfile.mkdtemp(prefix="emotion-clf-batch-"))
    try:
        batch = settings.batch
        reader = SourceReader(
            workdir=workdir,
            text_column=text_column,
            max_media_seconds=max_media_seconds
            if max_media_seconds is not None
            else batch.max_media_s,
            max_record_bytes=batch.max_record_bytes,
            max_text_chars=settings.serving.max_text_chars,
            max_transcript_bytes=batch.max_transcript_bytes,
            max_download_bytes=batch.max_download_bytes,
            timeout_s=batch.download_deadline_s,
        )
        # counted first where the sources allow it, for a bar with a total, a rate and an ETA
        with row_progress("classifying", count_rows(input_file, reader)) as advance:
            summary = run_batch(
                input_file,
                scorer=scorer,
                output=target,
                reader=reader,
                on_error=on_error,
                chunk_size=chunk_size,
                progress=advance,
            )
    finally:
        clean_workdir(workdir)
    if json_output:
        print_json(summary.to_dict())
    else:
        show_summary(summary)


def _predict_texts(
    texts: list[str],
    *,
    model: str,
    api: str | None,
    headers: dict[str, str],
    settings: Settings,
    distributions: bool,
    json_output: bool,
) -> None:
    cleaned = [t.strip() for t in texts]
    empty = [i + 1 for i, t in enumerate(cleaned) if not t]
    if empty:
        raise DataError(f"text number {', '.join(map(str, empty))} is empty", field="text")
    if api:
        predictions, label = _from_api(api, cleaned, headers=headers, distributions=distributions)
    else:
        resolved = resolve_model(model, settings=settings)
        predictions, label = resolved.load().predict(cleaned), resolved.label
    if json_output:
        objects = [
            {"text": t, **p.to_dict(distributions=distributions), "model": label}
            for t, p in zip(cleaned, predictions, strict=True)
        ]
        print_json(objects[0] if len(objects) == 1 else objects)
        return
    show_predictions(cleaned, predictions, model=label)


def _from_api(
    url: str, texts: list[str], *, headers: dict[str, str], distributions: bool
) -> tuple[list[Prediction], str]:
    """``POST /predict/batch`` on a running server, answers as :class:`Prediction` objects."""
    with ApiClient(url, headers=headers) as client:
        answer = client.predict_batch(texts, distributions=distributions)
    predictions = [
        Prediction(
            **{
                head: HeadPrediction(
                    getattr(item, head).label,
                    getattr(item, head).confidence,
                    getattr(item, head).distribution or {},
                )
                for head in HEADS
            }
        )
        for item in answer.predictions
    ]
    return predictions, f"{url} (v{answer.model_version})"

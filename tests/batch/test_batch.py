"""Batch inference from every input format, with their bad variants, into every output format."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from emotion_clf.batch.inputs import BadRow, InputRow, SourceReader, expand_sources
from emotion_clf.batch.run import LocalScorer, run_batch
from emotion_clf.data.schema import SCHEMA
from emotion_clf.errors import DataError
from emotion_clf.models import load_bundle
from tests.cli.helpers import run_cli

SRT = (
    "1\n00:00:01,000 --> 00:00:03,000\nI can't believe we won!\n\n"
    "2\n00:00:04,000 --> 00:00:05,000\n<i></i>\n\n"
    "3\n00:00:05,000 --> 00:00:09,000\nThis is awful.\n"
)
VTT = "WEBVTT\n\n00:01.000 --> 00:02.000\nHello there\n\n00:02.500 --> 00:04.000\nGoodbye\n"


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "in"
    folder.mkdir()
    return {
        "csv": write(
            folder / "talk.csv",
            'start_time,end_time,Text\n00:00:01,00:00:03,"I love it, truly"\n'
            ',,""\n00:00:04,00:00:05,"broken "quote" here"\n0,2.5,Leave me alone\n'
            "soon,later,bad times\n",
        ),
        "jsonl": write(
            folder / "chat.jsonl",
            '{"text": "What a lovely day", "start": 0, "end": 1.5}\n'
            "not json\n"
            '{"text": 3}\n'
            '{"text": "Thanks a lot", "start": "00:00:02,000"}\n',
        ),
        "txt": write(folder / "lines.txt", "First line is happy\n\n   \nSecond is sad\n"),
        "srt": write(folder / "show.srt", SRT),
        "vtt": write(folder / "clip.vtt", VTT),
    }


def read_all(reader: SourceReader, source: str) -> tuple[list[InputRow], list[BadRow]]:
    items = list(reader.read(source))
    return [i for i in items if isinstance(i, InputRow)], [
        i for i in items if isinstance(i, BadRow)
    ]


def test_every_format_gives_rows_with_lines_times_and_bad_rows_with_reasons(
    inputs: dict[str, str], tmp_path: Path
) -> None:
    reader = SourceReader(workdir=tmp_path)
    rows, bad = read_all(reader, inputs["csv"])
    assert [(r.line, r.text, r.start_s, r.end_s) for r in rows] == [
        (2, "I love it, truly", 1.0, 3.0),
        (5, "Leave me alone", 0.0, 2.5),
    ]
    assert [(b.line, b.reason.split(" (")[0]) for b in bad] == [
        (3, "empty text"),
        (4, "broken CSV quoting"),
        (6, "bad time: 'soon' is not a timestamp"),
    ]
    rows, bad = read_all(reader, inputs["jsonl"])
    assert [(r.line, r.text, r.start_s) for r in rows] == [
        (1, "What a lovely day", 0.0),
        (4, "Thanks a lot", 2.0),
    ]
    assert [(b.line, b.reason) for b in bad] == [
        (2, "not JSON: Expecting value"),
        (3, "no text in field 'text'"),
    ]
    rows, bad = read_all(reader, inputs["txt"])
    assert [(r.line, r.text) for r in rows] == [(1, "First line is happy"), (4, "Second is sad")]
    assert [(b.line, b.reason) for b in bad] == [(3, "empty text")]
    rows, bad = read_all(reader, inputs["srt"])
    assert [(r.line, r.text, r.start_s, r.end_s) for r in rows] == [
        (2, "I can't believe we won!", 1.0, 3.0),
        (10, "This is awful.", 5.0, 9.0),
    ]
    assert [(b.line, b.reason) for b in bad] == [(6, "cue 2 has no text")]
    rows, bad = read_all(reader, inputs["vtt"])
    assert [r.text for r in rows] == ["Hello there", "Goodbye"] and bad == []


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.csv", None, "no such file"),
        ("data.xlsx", "x", "unknown input format '.xlsx'"),
        ("nocolumn.csv", "words\nhello\n", "no text column 'text'"),
        ("empty.csv", "", "the file is empty"),
        ("bad.srt", "1\nnot a timing\nhi\n", "cue 1: expected a timing line"),
        ("latin1.txt", b"caf\xe9\n", "not UTF-8 text"),
    ],
)
def test_a_source_that_cannot_be_read_is_one_bad_row_naming_it(
    tmp_path: Path, name: str, content: str | bytes | None, reason: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    rows, bad = read_all(SourceReader(workdir=tmp_path), str(path))
    assert rows == [] and len(bad) == 1 and reason in bad[0].reason


def test_list_files_name_sources_relative_to_themselves(
    inputs: dict[str, str], tmp_path: Path
) -> None:
    listing = Path(inputs["txt"]).parent / "all.list"
    listing.write_text("# the talks\ntalk.csv\n\nshow.srt\nhttps://example.org/a.vtt\n")
    assert expand_sources([str(listing)]) == [
        inputs["csv"],
        inputs["srt"],
        "https://example.org/a.vtt",
    ]
    folder = Path(inputs["txt"]).parent
    (folder / "notes.docx").write_text("not an input format")
    assert expand_sources([str(folder)]) == sorted(inputs.values())  # known formats, in order
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no file of a known input format"):
        expand_sources([str(empty)])
    nested = tmp_path / "nested.lst"
    nested.write_text("all.list\n")
    with pytest.raises(DataError, match="may not name another list file"):
        expand_sources([str(nested)])


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_one_output_row_per_input_row_and_a_summary_per_source(
    inputs: dict[str, str], tmp_path: Path, tfidf_bundle: Path, suffix: str
) -> None:
    scorer = LocalScorer(load_bundle(tfidf_bundle), label="tfidf", version=None)
    output = tmp_path / f"out{suffix}"
    summary = run_batch(
        list(inputs.values()),
        scorer=scorer,
        output=output,
        reader=SourceReader(workdir=tmp_path),
        chunk_size=3,  # several chunks, crossing sources
    )
    if suffix == ".csv":
        with output.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    elif suffix == ".jsonl":
        rows = [json.loads(line) for line in output.read_text().splitlines()]
    else:
        rows = pq.read_table(output).to_pylist()
    assert len(rows) == summary.rows == 10 and summary.bad_count == 7
    assert [r["text"] for r in rows][:2] == ["I love it, truly", "Leave me alone"]
    for row in rows:
        assert row["emotion"] in SCHEMA.emotions and row["sub_emotion"] in SCHEMA.children(
            row["emotion"]
        )
        assert 0 < float(row["emotion_confidence"]) <= 1
    rejected = list(csv.reader((tmp_path / "out.rejected.csv").open()))
    assert len(rejected) == 1 + 7 and rejected[1][1:] == ["3", "empty text"]
    srt = summary.sources[inputs["srt"]].to_dict()
    assert srt["rows"] == 2 and srt["bad_rows"] == 1 and srt["duration_s"] == 6.0
    assert sum(srt["emotions"].values()) == 2 and 1 <= srt["mean_intensity"] <= 3
    assert abs(sum(srt["duration_shares"].values()) - 1) < 1e-3
    assert "duration_s" not in summary.sources[inputs["txt"]].to_dict()  # no times, no durations


def test_on_error_fail_stops_at_the_first_bad_row_and_writes_nothing(
    inputs: dict[str, str], tmp_path: Path, tfidf_bundle: Path
) -> None:
    scorer = LocalScorer(load_bundle(tfidf_bundle), label="tfidf", version=None)
    output = tmp_path / "out.csv"
    with pytest.raises(DataError, match=r"talk.csv, line 3: empty text"):
        run_batch(
            [inputs["csv"]],
            scorer=scorer,
            output=output,
            reader=SourceReader(workdir=tmp_path),
            on_error="fail",
        )
    assert not output.exists() and not list(tmp_path.glob(".out.csv.*"))


def test_the_cli_takes_texts_or_files_never_both(
    inputs: dict[str, str], tmp_path: Path, tfidf_bundle: Path
) -> None:
    both = run_cli(
        "predict", "hi", "--input-file", inputs["txt"], "--model", str(tfidf_bundle), home=tmp_path
    )
    assert both.returncode != 0 and "give texts or --input-file, not both" in both.stderr
    neither = run_cli("predict", "--model", str(tfidf_bundle), home=tmp_path)
    assert neither.returncode != 0 and "give one or more texts, or --input-file" in neither.stderr
    out = tmp_path / "p.jsonl"
    batch = run_cli(
        "predict", "--input-file", inputs["txt"], "--input-file", inputs["vtt"],
        "--model", str(tfidf_bundle), "--output", str(out), "--json", home=tmp_path,
    )  # fmt: skip
    assert batch.returncode == 0, batch.stderr
    summary = json.loads(batch.stdout)
    assert (
        summary["rows"] == 4 and summary["bad_rows"] == 1 and len(out.read_text().splitlines()) == 4
    )
    bad_format = run_cli(
        "predict", "--input-file", inputs["txt"], "--model", str(tfidf_bundle),
        "--output", str(tmp_path / "p.xlsx"), home=tmp_path,
    )  # fmt: skip
    assert (
        bad_format.returncode != 0 and "allowed values: .csv, .jsonl, .parquet" in bad_format.stderr
    )


def test_a_run_that_breaks_midway_leaves_neither_output_nor_rejected_rows(
    inputs: dict[str, str], tmp_path: Path, tfidf_bundle: Path
) -> None:
    """Bad rows stream to the rejected file as they come; a run that then fails discards it
    with the output (the command's error says what broke; nothing half-written is left)."""
    scorer = LocalScorer(load_bundle(tfidf_bundle), label="tfidf", version=None)
    calls = []
    score = scorer.score

    def breaks_on_the_second_chunk(texts: list[str]) -> Any:
        calls.append(len(texts))
        if len(calls) == 2:
            raise OSError("disk full")
        return score(texts)

    scorer.score = breaks_on_the_second_chunk  # type: ignore[method-assign]
    output = tmp_path / "out.csv"
    with pytest.raises(OSError, match="disk full"):
        run_batch(
            list(inputs.values()),
            scorer=scorer,
            output=output,
            reader=SourceReader(workdir=tmp_path),
            chunk_size=3,
        )
    assert len(calls) == 2
    assert not output.exists() and not (tmp_path / "out.rejected.csv").exists()
    assert [p.name for p in tmp_path.glob(".out*")] == []

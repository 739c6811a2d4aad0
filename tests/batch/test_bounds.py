"""Every input has a bounded cost: an over-long record or text in any format is a rejected row
with its line, between rows that are still scored; files of gigabytes with no line end stream
through in constant memory."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emotion_clf.batch.inputs import SourceReader, expand_sources
from emotion_clf.batch.lines import read_lines
from emotion_clf.batch.rows import BadRow, InputRow
from emotion_clf.batch.run import LocalScorer, run_batch
from emotion_clf.errors import DataError
from emotion_clf.models import load_bundle

RECORD = 1000  # bytes: small limits keep the files small
TEXT = 200  # characters
LONG = "x" * 5000  # one record over RECORD
WORDY = "so happy " * 30  # 270 characters: a record within RECORD, a text over TEXT
GIB = 1024**3

# Each format: good, over-long record, good, over-long text, good; the bad rows' lines.
FILES = {
    "talk.csv": (
        f'text,start_time\n"I love it",1\n"{LONG}",2\nLeave me alone,3\n"{WORDY}",4\nBye now,5\n',
        [(3, "the line is 5,005 bytes long; the limit is 1,000 bytes"), (5, "text")],
    ),
    "chat.jsonl": (
        "\n".join(
            json.dumps({"text": t}) for t in ["I love it", LONG, "Leave me alone", WORDY, "Bye now"]
        )
        + "\n",
        [(2, "the line is 5,013 bytes long; the limit is 1,000 bytes"), (4, "text")],
    ),
    "lines.txt": (
        f"I love it\n{LONG}\nLeave me alone\n{WORDY}\nBye now\n",
        [(2, "the line is 5,001 bytes long; the limit is 1,000 bytes"), (4, "text")],
    ),
    "show.srt": (
        "1\n00:00:01,000 --> 00:00:02,000\nI love it\n\n"
        f"2\n00:00:02,000 --> 00:00:03,000\n{WORDY}\n\n"
        "3\n00:00:03,000 --> 00:00:04,000\nBye now\n",
        [(6, "text")],
    ),
}
TEXT_REASON = f"the text is {len(WORDY.strip())} characters long; the limit is {TEXT}"


def reader(tmp_path: Path) -> SourceReader:
    return SourceReader(
        workdir=tmp_path, max_record_bytes=RECORD, max_text_chars=TEXT, max_transcript_bytes=2000
    )


@pytest.mark.parametrize("name", list(FILES))
def test_an_over_long_record_or_text_is_rejected_with_its_line_between_scored_rows(
    tmp_path: Path, tfidf_bundle: Path, name: str
) -> None:
    content, expected = FILES[name]
    source = tmp_path / name
    source.write_text(content, encoding="utf-8")
    scorer = LocalScorer(load_bundle(tfidf_bundle), label="tfidf", version=None)
    output = tmp_path / "out.csv"
    summary = run_batch([str(source)], scorer=scorer, output=output, reader=reader(tmp_path))
    with output.open(newline="") as handle:
        scored = [r["text"] for r in csv.DictReader(handle)]
    good = ["I love it", "Leave me alone", "Bye now"] if name != "show.srt" else ["I love it"]
    assert scored == good + (["Bye now"] if name == "show.srt" else [])
    assert summary.rejected is not None
    with summary.rejected.open(newline="") as handle:
        rejected = [(int(r["line"]), r["reason"]) for r in csv.DictReader(handle)]
    assert rejected == [
        (line, TEXT_REASON if reason == "text" else reason) for line, reason in expected
    ]


def test_on_error_fail_names_the_file_and_line_of_an_over_long_record(
    tmp_path: Path, tfidf_bundle: Path
) -> None:
    source = tmp_path / "lines.txt"
    source.write_text(FILES["lines.txt"][0], encoding="utf-8")
    scorer = LocalScorer(load_bundle(tfidf_bundle), label="tfidf", version=None)
    with pytest.raises(DataError, match=r"lines.txt, line 2: the line is 5,001 bytes long"):
        run_batch(
            [str(source)],
            scorer=scorer,
            output=tmp_path / "out.csv",
            reader=reader(tmp_path),
            on_error="fail",
        )


def test_a_csv_quote_left_open_costs_one_record_limit_then_reading_goes_on(
    tmp_path: Path,
) -> None:
    lines = "".join(f"row {i} of the open field\n" for i in range(100))  # 24 or 25 bytes each
    source = tmp_path / "open.csv"
    source.write_text(f'text\nFine\n"Never closed\n{lines}', encoding="utf-8")
    items = list(reader(tmp_path).read(str(source)))
    assert isinstance(items[0], InputRow) and items[0].text == "Fine"
    bad = items[1]
    assert isinstance(bad, BadRow) and bad.line == 3
    assert bad.reason == "the record is longer than 1,000 bytes (lines 3-43)"
    assert isinstance(items[2], InputRow) and items[2].line == 44  # what follows is read


def test_a_header_over_the_limit_and_subtitles_over_theirs_are_refused_whole(
    tmp_path: Path,
) -> None:
    header = tmp_path / "wide.csv"
    header.write_text("text," + "c," * 1000 + "\nhello\n")
    srt = tmp_path / "big.srt"
    srt.write_text(FILES["show.srt"][0] * 20)
    [bad_header] = list(reader(tmp_path).read(str(header)))
    assert bad_header.line == 1 and "the header row: the line is 2,006 bytes" in str(bad_header)
    [bad_srt] = list(reader(tmp_path).read(str(srt)))
    assert isinstance(bad_srt, BadRow) and bad_srt.line == 0
    assert "subtitles are read whole, and the limit is 2,000 bytes" in bad_srt.reason


@pytest.mark.parametrize(
    ("line", "reason"),
    [("[" * 100_000, "not JSON: maximum recursion depth"), ("1" * 5000, "not JSON: Exceeds")],
)
def test_json_within_the_record_limit_that_python_cannot_take_is_a_bad_row(
    tmp_path: Path, line: str, reason: str
) -> None:
    source = tmp_path / "odd.jsonl"
    source.write_text(f'{line}\n{{"text": "still read"}}\n')
    bad, good = list(SourceReader(workdir=tmp_path).read(str(source)))
    assert isinstance(bad, BadRow) and bad.line == 1 and bad.reason.startswith(reason)
    assert isinstance(good, InputRow) and good.text == "still read"


def test_lines_end_as_in_a_text_file_whatever_the_chunks() -> None:
    """Line ends (\\n, \\r\\n, \\r) and numbers as Python's text files give them, for any chunk
    size, with a \\r\\n or a long line cut across chunks."""
    rng = random.Random(0)
    for _ in range(3000):
        data = bytes(rng.choice(b"ab\r\n") for _ in range(rng.randint(0, 40)))
        expected = io.TextIOWrapper(io.BytesIO(data), encoding="ascii", newline="").readlines()
        lines = list(read_lines(io.BytesIO(data), max_bytes=6, chunk_bytes=rng.randint(1, 9)))
        assert [line.number for line in lines] == list(range(1, len(expected) + 1))
        assert [line.size for line in lines] == [len(e) for e in expected]
        assert [line.data for line in lines] == [
            e.encode() if len(e) <= 6 else None for e in expected
        ]


def test_a_list_file_over_its_limit_is_refused(tmp_path: Path) -> None:
    listing = tmp_path / "many.list"
    listing.write_text("a.csv\n" * 100)
    with pytest.raises(DataError, match="over the limit of 500 bytes"):
        expand_sources([str(listing)], max_list_bytes=500)


def sparse(path: Path, head: bytes, tail: bytes) -> Path:
    """``head``, then a hole of two gigabytes of zeros (no disk used, no line end), ``tail``."""
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(2 * GIB)
        handle.seek(0, os.SEEK_END)
        handle.write(tail)
    return path


def test_gigabyte_lines_stream_through_the_command_in_bounded_memory(
    tmp_path: Path, tfidf_bundle: Path
) -> None:
    """The real command on files whose lines the old readers held whole: a sparse 2 GB CSV
    and JSONL (a record of 2 GB of zeros between good rows), a 100 MB one-line text file and
    a sparse 2 GB subtitle file. Its peak memory is read from ``/proc`` while it runs."""
    sources = [
        sparse(tmp_path / "sparse.csv", b"text\nI love it\n", b"\nBye now\n"),
        sparse(tmp_path / "sparse.jsonl", b'{"text": "I love it"}\n', b'\n{"text": "Bye now"}\n'),
        sparse(tmp_path / "sparse.srt", b"", b""),
    ]
    one_line = tmp_path / "one-line.txt"
    with one_line.open("wb") as handle:
        for _ in range(100):
            handle.write(b"word " * 200_000)  # 1 MB at a time: 100 MB, no line end
    sources.append(one_line)
    output = tmp_path / "out.csv"
    command = [str(Path(sys.executable).with_name("emotion-clf")), "predict"]
    for source in sources:
        command += ["--input-file", str(source)]
    command += ["--model", str(tfidf_bundle), "--output", str(output), "--json"]
    env = {**os.environ, "EMOTION_CLF_HOME": str(tmp_path / "home")}
    returncode, stdout, stderr, peak_mib = run_measured(command, env, tmp_path)
    assert returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["rows"] == 4 and summary["bad_rows"] == 4
    with output.open(newline="") as handle:
        assert [r["text"] for r in csv.DictReader(handle)] == ["I love it", "Bye now"] * 2
    with (tmp_path / "out.rejected.csv").open(newline="") as handle:
        rejected = [
            (Path(r["source"]).name, r["line"], r["reason"]) for r in csv.DictReader(handle)
        ]
    assert rejected == [
        ("sparse.csv", "3", "the line is 2,147,483,634 bytes long; the limit is 1,048,576 bytes"),
        ("sparse.jsonl", "2", "the line is 2,147,483,627 bytes long; the limit is 1,048,576 bytes"),
        (
            "sparse.srt",
            "0",
            "the subtitle file is 2,147,483,648 bytes; subtitles are read whole, and the limit "
            "is 10,000,000 bytes",
        ),
        ("one-line.txt", "1", "the line is 100,000,000 bytes long; the limit is 1,048,576 bytes"),
    ]
    assert peak_mib < 1024, f"peak RSS {peak_mib:.0f} MiB"


def run_measured(
    command: list[str], env: dict[str, str], folder: Path
) -> tuple[int, str, str, float]:
    """Exit code, standard output and error, and the peak resident memory (MiB) of the command
    alone: its ``VmHWM``, read while it runs. (The kernel's ``ru_maxrss`` of a child also counts
    the parent's memory, which the child shared until it started the command.)"""
    out, err = folder / "stdout.txt", folder / "stderr.txt"
    peak = 0.0
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env)
        while child.poll() is None:
            peak = max(peak, high_water_mib(child.pid))
            time.sleep(0.02)
    return child.returncode, out.read_text(), err.read_text(), peak


def high_water_mib(pid: int) -> float:
    """The process's peak resident memory so far (MiB); 0 once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0

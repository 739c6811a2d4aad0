"""Progress and status where people wait (issue 27): a batch shows its total, rate and ETA
where the row count is knowable, a model load says which model, and neither reaches stdout."""

from __future__ import annotations

import io
import json
from pathlib import Path

from emotion_clf.batch.inputs import SourceReader, count_rows
from emotion_clf.models.progress import ProgressLines
from tests.cli.helpers import run_cli


def test_a_batch_of_a_known_size_shows_its_total_rate_and_eta_on_stderr(
    tmp_path: Path, tfidf_bundle: Path
) -> None:
    texts = tmp_path / "lines.txt"
    texts.write_text("".join(f"line {i}: what a day it has been\n" for i in range(300)))
    out = tmp_path / "p.jsonl"
    done = run_cli(
        "predict", "--input-file", str(texts), "--model", str(tfidf_bundle),
        "--output", str(out), "--chunk-size", "50", "--json", home=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 300  # stdout is the JSON alone
    lines = done.stderr.splitlines()
    assert f"loading model {tfidf_bundle} (tfidf)" in lines
    progress = [line for line in lines if line.startswith("classifying:")]
    # the first chunk says the total, the rate and the time left; the last says it is done
    assert progress[0].startswith("classifying: 50/300 rows (17%), ")
    assert " rows/s, elapsed " in progress[0] and ", eta " in progress[0]
    assert progress[-1].startswith("classifying: 300/300 rows (100%), ")
    assert "eta" not in progress[-1]


def test_the_row_count_is_known_for_local_files_and_not_for_urls_or_media(
    tmp_path: Path,
) -> None:
    reader = SourceReader(workdir=tmp_path)
    csv = tmp_path / "talk.csv"
    csv.write_text('text\n"one"\n""\n"two"\n"three"\n')  # the empty row is a bad row
    srt = tmp_path / "show.srt"
    srt.write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nHello\n\n2\n00:00:04,000 --> 00:00:05,000\nBye\n"
    )
    assert count_rows([str(csv), str(srt)], reader) == 3 + 2
    assert count_rows([str(csv), "https://example.org/talk.csv"], reader) is None
    (tmp_path / "clip.wav").write_bytes(b"RIFF")
    assert count_rows([str(csv), str(tmp_path / "clip.wav")], reader) is None


def test_progress_lines_come_first_then_every_interval_then_at_the_end() -> None:
    now = [100.0]
    stream = io.StringIO()
    lines = ProgressLines("classifying", total=400, every_s=10, stream=stream, clock=lambda: now[0])
    for seconds, rows in ((4, 100), (8, 100), (14, 100), (16, 100)):
        now[0] = 100.0 + seconds
        lines.advance(rows)
    assert stream.getvalue().splitlines() == [
        "classifying: 100/400 rows (25%), 25 rows/s, elapsed 0:04, eta 0:12",
        "classifying: 300/400 rows (75%), 21 rows/s, elapsed 0:14, eta 0:05",
        "classifying: 400/400 rows (100%), 25 rows/s, elapsed 0:16",
    ]
    training = io.StringIO()
    now[0] = 0.0
    fraction = ProgressLines("train minilm", every_s=60, stream=training, clock=lambda: now[0])
    now[0] = 90.0
    fraction.fraction("epoch 1/3 loss 1.234", 0.1)
    assert (
        training.getvalue() == "train minilm: epoch 1/3 loss 1.234, 10%, elapsed 1:30, eta 13:30\n"
    )


def test_a_training_sent_to_a_log_shows_its_stage_share_and_time(
    tmp_path: Path, small_data: Path
) -> None:
    done = run_cli(
        "train", "--family", "tfidf", "--data", str(small_data), "--out", str(tmp_path / "b"),
        home=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("train tfidf: ")]
    assert lines, done.stderr  # plain lines, not a bar drawn once at the end
    assert lines[-1].startswith("train tfidf: done, 100%, elapsed ")

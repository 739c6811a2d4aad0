"""The batch deployment's entry script, run locally the way Azure ML runs it on a node:
``init()`` with the model folder and output folder in the environment, then ``run`` on
mini-batches of file paths; each file comes out as the local batch command writes it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from emotion_clf.azure.ml import batch_score
from emotion_clf.batch.inputs import SourceReader
from emotion_clf.batch.run import LocalScorer, run_batch
from emotion_clf.errors import ConfigError
from emotion_clf.models import load_bundle

SRT = "1\n00:00:01,000 --> 00:00:03,000\nWe won!\n\n2\n00:00:04,000 --> 00:00:06,000\nSo sad.\n"


@pytest.fixture
def node(tfidf_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A node's environment: the model mounted as version 5, an output folder."""
    model_dir = tmp_path / "azureml-models" / "emotion-clf" / "5"
    shutil.copytree(tfidf_bundle, model_dir / "tfidf")
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("AZUREML_BI_OUTPUT_PATH", str(tmp_path / "outputs"))
    monkeypatch.setattr(batch_score, "_state", {})
    return tmp_path / "outputs"


def inputs(folder: Path) -> list[str]:
    folder.mkdir()
    (folder / "talk.csv").write_text("text\nThank you so much!\n\nGo away.\nWhat a day.\n")
    (folder / "chat.jsonl").write_text('{"text": "I love it"}\n{"text": ""}\n')
    (folder / "film.srt").write_text(SRT)
    return [str(folder / n) for n in ("talk.csv", "chat.jsonl", "film.srt")]


def test_each_file_comes_out_like_the_local_batch_command(
    node: Path, tfidf_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMOTION_CLF_BATCH_OUTPUT_FORMAT", "jsonl")
    files = inputs(tmp_path / "in")
    batch_score.init()
    lines = batch_score.run(files[:2]) + batch_score.run(files[2:])  # two mini-batches
    summaries = [json.loads(line) for line in lines]
    assert [(s["source"], s["rows"], s["bad_rows"]) for s in summaries] == [
        ("talk.csv", 3, 0),  # a blank line is no row
        ("chat.jsonl", 1, 1),
        ("film.srt", 2, 0),
    ]
    assert {s["model"] for s in summaries} == {"v5"}
    assert sorted(p.name for p in node.iterdir()) == [
        "chat.jsonl.jsonl",
        "chat.jsonl.rejected.csv",
        "film.srt.jsonl",
        "talk.csv.jsonl",
    ]
    # the same rows and columns as monitoring's run_batch writes for the same file locally
    local = tmp_path / "local.jsonl"
    run_batch(
        [files[2]],
        scorer=LocalScorer(load_bundle(tfidf_bundle), label="v5", version="5"),
        output=local,
        reader=SourceReader(workdir=tmp_path / "work"),
    )
    remote = pd.read_json(node / "film.srt.jsonl", lines=True)
    expected = pd.read_json(local, lines=True)
    pd.testing.assert_frame_equal(remote, expected)
    assert list(remote["start_s"]) == [1.0, 4.0]


def test_a_bad_output_format_stops_init(node: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOTION_CLF_BATCH_OUTPUT_FORMAT", "xlsx")
    with pytest.raises(ConfigError, match="formats: csv, jsonl, parquet"):
        batch_score.init()

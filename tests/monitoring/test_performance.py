"""True performance from feedback posted to a real server, with the server's own answers."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from emotion_clf.monitoring.performance import read_feedback
from tests.cli.helpers import run_cli
from tests.serving.helpers import TOKEN
from tests.serving.server import running_server

SERVER_ENV = {"EMOTION_CLF_REFRESH_TOKEN": TOKEN, "EMOTION_CLF_POLL_S": "0"}
CORRECTED = [
    ("I can't believe we won the cup!", "happiness", "excitement", "strong"),
    ("This food is disgusting.", "disgust", "disgust", "moderate"),
    ("Please leave me alone.", "anger", "annoyance", "mild"),
    ("I miss her so much.", "sadness", "grief", "strong"),
    ("What time is it?", "neutral", "neutral", "mild"),
]


def test_a_report_from_feedback_posted_through_the_api(home: Path) -> None:
    with running_server(home, env=SERVER_ENV) as server:
        texts = [c[0] for c in CORRECTED]
        served = httpx.post(f"{server.url}/predict/batch", json={"texts": texts[:3]})
        assert served.status_code == 200  # the log now holds the live answers to three texts
        items = [
            {"text": t, "emotion": e, "sub_emotion": s, "intensity": i} for t, e, s, i in CORRECTED
        ]
        items.append(
            {"text": "So annoying", "emotion": "anger", "sub_emotion": "rage", "intensity": "high"}
        )
        posted = httpx.post(f"{server.url}/feedback", json={"items": items, "source": "test"})
    assert posted.status_code == 200 and posted.json()["quarantined"] == 1

    # a partly filled file and one that is not a feedback file at all, dropped in by hand
    folder = home / "feedback"
    (folder / "by-hand.csv").write_text(
        "start_time,end_time,text,emotion,sub-emotion,intensity\n"
        ",,Lovely,happiness,joy,mild\n,,Hmm,happiness,,\n"
    )
    (folder / "notes.csv").write_text("just some notes\n")

    run = run_cli("perf-report", "--json", home=home)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["rows"] == 6 and report["quarantined_rows"] == 1
    assert set(report["models"]) == {"baseline", "dynamic"}
    baseline = report["models"]["baseline"]
    assert set(baseline) == {"emotion", "sub_emotion", "intensity", "rows"}  # as evaluate --json
    assert 0 <= baseline["emotion"]["accuracy"] <= 1 and baseline["rows"] == 6
    assert report["live_rows"] == 3 and report["live_versions"] == {"1": 3}
    problems = " | ".join(report["bad_rows"])
    assert "by-hand.csv, line 3" in problems and "notes.csv, line 1: missing column" in problems
    assert Path(report["html"]).is_file() and Path(report["json"]).is_file()

    again = run_cli("perf-report", "--models", "baseline", home=home, env={"COLUMNS": "200"})
    assert again.returncode == 0 and "live answers (3 rows)" in again.stdout
    pages = sorted((home / "reports" / "performance").glob("*-performance.html"))
    assert len(pages) == 2 and "Trend" in pages[-1].read_text()


def test_feedback_files_are_read_row_by_row_and_quarantine_is_counted(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(
        "text,emotion,sub-emotion,intensity\nFine,neutral,neutral,mild\nOops,joyful,joy,mild\n"
    )
    (tmp_path / "quarantine").mkdir()
    (tmp_path / "quarantine" / "a.jsonl").write_text('{"index": 0, "reason": "x"}\n{"index": 1}\n')
    data = read_feedback(tmp_path)
    assert len(data.dataset) == 1 and data.files == 1 and data.quarantined == 2
    [problem] = data.problems
    assert "a.csv, line 3: unknown emotion 'joyful' (allowed values: anger" in problem

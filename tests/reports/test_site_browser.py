"""The published index, opened in a real headless Chromium: the state of production is there."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from emotion_clf.batch.run import LocalScorer
from emotion_clf.config import Settings
from emotion_clf.data.feedback import triage, write_feedback
from emotion_clf.data.profile import load_profile
from emotion_clf.models import load_bundle
from emotion_clf.monitoring.drift import CurrentData, check_drift, save_report
from emotion_clf.monitoring.performance import performance_report, read_feedback
from emotion_clf.monitoring.performance import save_report as save_performance
from emotion_clf.training import TrainResult
from tests.cli.helpers import run_cli

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class ById(HTMLParser):
    """The text inside every element that has an id (nested ids each get their text)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, str | None]] = []
        self.text: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append((tag, dict(attrs).get("id")))

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, element_id in self.open:
            if element_id:
                self.text[element_id] = self.text.get(element_id, "") + data


def dom_of(page: Path, profile_dir: Path) -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does)")
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_index_opens_with_the_state_of_production(
    home: Path, strong_result: TrainResult, tmp_path: Path
) -> None:
    settings = Settings(home=home)
    profile = load_profile(strong_result.bundle)
    assert profile is not None
    scorer = LocalScorer(load_bundle(strong_result.bundle), label="v1", version="1")
    texts = ["Server returned status 503; retrying in 30 seconds."] * 60
    scored = scorer.score(texts)
    current = CurrentData(
        description="a log dump",
        lengths=[len(t) for t in texts],
        labels=scored.labels,
        confidences={h: list(map(float, v)) for h, v in scored.confidences.items()},
        texts=texts,
    )
    save_report(check_drift(profile, current), folder=settings.monitoring_dir / "drift", model="v1")
    items = [
        {"text": "I love it", "emotion": "happiness", "sub_emotion": "love", "intensity": "mild"}
    ]
    write_feedback(triage(items, max_chars=2000).rows, folder=settings.feedback_dir)
    report = performance_report(
        read_feedback(settings.feedback_dir),
        {"baseline": ("v1", load_bundle(strong_result.bundle))},
    )
    save_performance(report, folder=settings.reports_dir / "performance")

    published = run_cli("report", "publish", home=home)
    assert published.returncode == 0, published.stderr
    found = ById()
    found.feed(dom_of(settings.reports_dir / "index.html", tmp_path / "chromium"))
    text = {k: " ".join(v.split()) for k, v in found.text.items()}
    assert "State of production" in text["production"]
    assert "v1" in text["baseline"] and "tfidf" in text["baseline"]
    assert "v2" in text["dynamic"]
    assert "promote none → v1" in text["last-promotion"]
    assert "drift" in text["drift"] and "a log dump (60 rows)" in text["drift"]
    assert "1 feedback rows" in text["performance"] and "baseline" in text["performance"]
    assert "feedback report" in text["performance"]  # the link to perf-report's page
    assert "expected" not in text["drift"].lower()  # a log dump is not the test split
    assert not [p.name for p in settings.reports_dir.iterdir() if p.name.startswith(".")]
    assert "Reports" in text["reports"]

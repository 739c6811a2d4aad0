"""The index as a dashboard: each card answers one question, links to the report behind it,
and says what a newcomer would otherwise misread. Tested on the HTML's structure."""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from emotion_clf.monitoring.drift_runs import TEST_SPLIT
from emotion_clf.registry import AuditEntry
from emotion_clf.reports.keynumbers import key_label
from emotion_clf.reports.over_time import drift_over_time_figure, performance_over_time_figure
from emotion_clf.reports.production import Designated, ProductionState, production_html
from emotion_clf.reports.records import ReportRecord, attach_record, write_notebook
from emotion_clf.reports.site import add_to_index, publish_site, write_index


class Page(HTMLParser):
    """Per element id: its text, its links and its classes (nested ids each get theirs)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.open: list[tuple[str, str | None]] = []
        self.text: dict[str, str] = {}
        self.links: dict[str, list[str]] = {}
        self.classes: dict[str, list[str]] = {}
        self.images: dict[str, int] = {}
        self.feed(text)

    def _ids(self) -> list[str]:
        return [i for _, i in self.open if i]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.open.append((tag, found.get("id")))
        for element in self._ids():
            if tag == "a" and found.get("href"):
                self.links.setdefault(element, []).append(str(found["href"]))
            if found.get("class"):
                self.classes.setdefault(element, []).extend(str(found["class"]).split())
            if tag == "img":
                self.images[element] = self.images.get(element, 0) + 1
        if tag == "img":
            self.open.pop()

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self._ids():
            self.text[element] = " ".join((self.text.get(element, "") + " " + data).split())


def record(name: str, day: int, **numbers: object) -> ReportRecord:
    run_id = f"2026010{day}T000000Z-{name}"
    return ReportRecord(
        id=run_id,
        name=name,
        title=name,
        date=f"2026-01-0{day}T00:00:00+00:00",
        seconds=1.0,
        key_numbers=dict(numbers),  # type: ignore[arg-type]
        html=f"{run_id}.html",
        notebook=f"runs/{run_id}.ipynb",
    )


RECORDS = [  # newest first, as the site hands them over
    record("06-performance-report", 6, rows=295),
    record("05-drift-report", 5, drift=True, current_rows=4501, score=0.875),
    record("03-promote", 4, outcome="promoted"),
    record("02-compare-baseline", 3, decision="promote"),
    record("01-train", 2, version=2, family="minilm"),
    record("01-train", 1, version=1, family="tfidf"),
]
METRICS = {"test.emotion.accuracy": 0.61, "test.emotion.macro_f1": 0.48}


def drift_summary(at: str, *, drift: bool, current: str = TEST_SPLIT) -> dict[str, object]:
    return {"drift": drift, "score": 0.875 if drift else 0.0, "current": current,
            "current_rows": 4501, "model": "v2 (baseline)", "at": at}  # fmt: skip


def state(*, dynamic: str = "2", drifts: int = 1) -> ProductionState:
    at = "2026-01-04T00:00:00+00:00"
    promoted = AuditEntry(
        "a", "promote", "1", "2", at, "me", "gate passed", False, "pass", "applied"
    )
    history = [
        drift_summary(f"2026-01-0{d + 1}T00:00:00+00:00", drift=d % 2 == 0) for d in range(drifts)
    ]
    return ProductionState(
        baseline=Designated("baseline", "2", "minilm", "2026-01-04T00:00:00+00:00", METRICS),
        dynamic=Designated("dynamic", dynamic, "minilm", "2026-01-02T00:00:00+00:00", METRICS),
        last_change=promoted,
        drift=history[-1] if history else None,
        drifts=history,
    )


def test_every_card_links_to_the_report_behind_it() -> None:
    page = Page(production_html(state(dynamic="3"), RECORDS))
    assert page.links["baseline"] == ["20260102T000000Z-01-train.html"]  # v2's training
    assert page.links["last-promotion"] == ["20260104T000000Z-03-promote.html"]
    assert page.links["drift"] == ["20260105T000000Z-05-drift-report.html"]
    assert "dynamic" not in page.links  # v3 has no training report here: no dead link
    from_the_command_line = state(dynamic="3")
    from_the_command_line.drift = {**drift_summary("2026-01-07", drift=True), "current_rows": 60}
    assert "drift" not in Page(production_html(from_the_command_line, RECORDS)).links


def test_the_performance_card_links_to_the_feedback_page_first() -> None:
    scores = {"emotion": {"accuracy": 0.641, "macro_f1": 0.345}}
    current = state()
    current.performance = {"rows": 295, "at": "2026-01-06T00:00:00+00:00",
                           "models": {"baseline": scores},
                           "model_labels": {"baseline": "v2 (baseline = dynamic)"}}  # fmt: skip
    current.performance_page = "performance/20260106T000000000000Z-performance.html"
    page = Page(production_html(current, RECORDS))
    assert page.links["performance"] == [
        "performance/20260106T000000000000Z-performance.html",
        "20260106T000000Z-06-performance-report.html",
    ]
    assert "v2 (baseline = dynamic) 0.641 0.345" in page.text["performance"]


def test_the_baseline_card_shows_its_test_metrics() -> None:
    text = Page(production_html(state(), RECORDS)).text["baseline"]
    assert "emotion accuracy 0.610" in text and "emotion macro-F1 0.480" in text


def test_dynamic_equal_to_baseline_is_said_once_without_a_second_table() -> None:
    html = production_html(state(dynamic="2"), RECORDS)
    page = Page(html)
    assert html.count("dynamic = baseline (no candidate pending)") == 1
    assert "dynamic = baseline (no candidate pending)" in page.text["dynamic"]
    assert "accuracy" not in page.text["dynamic"]  # the metrics are on the baseline's card
    assert page.links["dynamic"] == ["20260103T000000Z-02-compare-baseline.html"]


def test_the_drift_verdict_is_coloured_and_expected_drift_is_said() -> None:
    page = Page(production_html(state(drifts=1), RECORDS))
    assert "bad" in page.classes["drift"] and "verdict" in page.classes["drift"]
    assert "Expected here" in page.text["drift"] and "never saw in training" in page.text["drift"]
    calm = state()
    calm.drift = drift_summary("2026-01-05T00:00:00+00:00", drift=False, current="a log dump")
    page = Page(production_html(calm, RECORDS))
    assert "good" in page.classes["drift"] and "bad" not in page.classes["drift"]
    assert "Expected" not in page.text["drift"]


def test_over_time_appears_once_there_are_two_points() -> None:
    assert "over-time" not in Page(production_html(state(drifts=1), RECORDS)).text
    page = Page(production_html(state(drifts=3), RECORDS))
    assert page.images["over-time"] == 1


def test_drift_and_performance_over_time_figures_hold_the_history() -> None:
    history = [drift_summary(f"2026-01-0{d}T00:00:00+00:00", drift=d == 2) for d in (1, 2, 5)]
    fig = drift_over_time_figure(history)
    assert fig is not None
    [points] = fig.axes[0].collections
    assert [y for _, y in points.get_offsets()] == [0.0, 0.875, 0.0]
    assert fig.axes[0].get_ylim() == (0.0, 1.0)
    assert drift_over_time_figure(history[:1]) is None
    scores = {"emotion": {"accuracy": 0.6, "macro_f1": 0.4}, "rows": 5,
              "sub_emotion": {"accuracy": 0.5, "macro_f1": 0.3},
              "intensity": {"accuracy": 0.8, "macro_f1": 0.7}}  # fmt: skip
    reports = [
        {"at": f"2026-01-0{d}T00:00:00+00:00", "models": {"baseline": scores}} for d in (1, 3)
    ]
    perf = performance_over_time_figure(reports)
    assert perf is not None
    lines = {line.get_label(): list(line.get_ydata()) for line in perf.axes[0].lines}
    assert lines == {"baseline accuracy": [0.6, 0.6], "baseline macro-F1": [0.4, 0.4]}
    assert performance_over_time_figure(reports[:1]) is None
    plt.close("all")


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("test.sub_emotion.macro_f1", "test sub-emotion macro-F1"),
        ("delta.emotion.macro_f1.ci95_low", "Δ emotion macro-F1 95% CI low"),
        ("mcnemar.p", "McNemar exact p"),
        ("current_rows", "current rows"),
    ],
)
def test_key_numbers_read_as_words(key: str, label: str) -> None:
    assert key_label(key) == label


def published(reports: Path, name: str = "01-train") -> ReportRecord:
    """A small executed notebook, published as the runner publishes one."""
    book = new_notebook(cells=[new_markdown_cell("# A report"), new_code_cell("answer = 6 * 7")])
    book.cells[1].outputs = [new_output("stream", text="42\n")]
    done = record(name, 1, accuracy=0.5)
    attach_record(book, done)
    (reports / "runs").mkdir(parents=True, exist_ok=True)
    write_notebook(book, reports / done.notebook)
    return done


def test_notebook_links_open_a_page_with_the_code_not_raw_json(tmp_path: Path) -> None:
    done = published(tmp_path)
    publish_site(reports_dir=tmp_path)
    html = (tmp_path / "index.html").read_text()
    code = (tmp_path / "runs" / f"{done.id}.html").read_text()
    assert "highlight hl-ipython3" in code and "answer" in code  # the code, rendered
    assert "42" in code and "../index.html" in code
    report = (tmp_path / done.html).read_text()
    assert "highlight hl-ipython3" not in report  # the report still hides the code
    assert f"href='runs/{done.id}.html'" in html
    assert f"href='{done.notebook}' download" in html  # the .ipynb only as a download


def test_no_lock_or_temporary_file_is_published(tmp_path: Path) -> None:
    (tmp_path / ".index.lock").write_text("")  # left by an earlier version
    done = published(tmp_path)
    add_to_index(done, reports_dir=tmp_path)
    write_index([done], reports_dir=tmp_path)
    publish_site(reports_dir=tmp_path)
    hidden = [
        str(p.relative_to(tmp_path))
        for p in tmp_path.rglob("*")
        if p.name.startswith(".") or p.suffix in (".lock", ".tmp")
    ]
    assert hidden == []
    assert os.listdir(tmp_path)  # the site itself is there
    assert nbformat.read(tmp_path / done.notebook, as_version=4).cells

"""The README as a front door (issue 27): short, with a picture the docs build retakes and
a table of make targets that names every target the Makefile describes."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_stays_under_300_lines() -> None:
    assert len(README.splitlines()) < 300


def test_the_make_targets_table_names_every_described_target() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    described = set(re.findall(r"^([a-zA-Z0-9_-]+):.*## ", makefile, flags=re.M)) - {"help"}
    table = section("Make targets")
    listed = set(re.findall(r"`([a-z0-9-]+)`", table))
    assert described - listed == set(), "targets missing from the README's table"
    assert listed - described - {"emotion-clf azure"} == set(), "no such target"


def test_the_quick_start_has_one_curl_and_one_predict_with_their_output() -> None:
    quick = section("Quick start")
    assert quick.count("$ curl ") == 1 and quick.count("$ emotion-clf predict ") == 1
    assert '"model_version":"1"' in quick  # the server's answer, pasted
    assert "model: v1 (baseline)" in quick  # the CLI's answer, pasted


def test_the_screenshot_is_a_small_png_the_docs_build_retakes() -> None:
    [picture] = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", README.split("## Two commands")[0])
    png = ROOT / picture
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size < 200_000
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f'emotion_clf.reports.screenshot "$$reports/index.html" {picture}' in makefile

"""``emotion-clf data goemotions | info``: what the sources hold, and a clear error."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import run_cli


def test_goemotions_counts_kept_and_dropped_rows(workspace: Path) -> None:
    done = run_cli("data", "goemotions", "--json", home=workspace)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["splits"]["train"] == {
        "rows": 36_308,
        "rows_read": 43_410,
        "skipped_multi_label": 7_102,
    }
    for split, numbers in report["splits"].items():
        assert sum(report["emotion_rows"][split].values()) == numbers["rows"]


def test_a_missing_goemotions_folder_is_one_line(workspace: Path, tmp_path: Path) -> None:
    done = run_cli("data", "goemotions", "--folder", str(tmp_path / "absent"), home=workspace)
    assert done.returncode != 0
    assert "no such folder (the GoEmotions data)" in done.stderr
    assert "Traceback" not in done.stderr


def test_data_info_is_a_table_with_a_readable_title(small_data: Path, tmp_path: Path) -> None:
    done = run_cli("data", "info", "--data", str(small_data), home=tmp_path, env={"COLUMNS": "160"})
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert "{" not in done.stdout  # no raw dict
    assert "rows from 4 files; skipped:" in first and "unlabelled" in first, first

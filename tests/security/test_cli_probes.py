"""Probes of the command line, as a careless user (or a broken proxy) would send them: an API
that answers a proxy's page, a URL that is not one, a registry store that is missing or
damaged, a file of one 2 GB line. Each is one clear message and a non-zero exit (or a rejected
row), never a traceback, never a new empty registry, never unbounded memory."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from emotion_clf.config import Settings
from tests.batch.test_bounds import run_measured, sparse
from tests.cli.helpers import run_cli
from tests.http_listeners import Raw
from tests.security.conftest import ProbeLog

PROXY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def test_an_api_behind_a_broken_proxy_is_one_line(tmp_path: Path, probes: ProbeLog) -> None:
    with Raw(PROXY_PAGE, status=502) as proxy:
        result = run_cli("predict", "hello", "--api", proxy.url, home=tmp_path)
    clean = result.returncode != 0 and "Traceback" not in result.stderr + result.stdout
    probes.record(
        "predict --api against a proxy's 502 HTML page",
        expected="exit != 0, one message, no traceback",
        observed=f"exit {result.returncode}, traceback: {'Traceback' in result.stderr}",
        ok=clean and "not JSON" in result.stderr,
    )
    assert clean and "not JSON" in result.stderr


def test_a_malformed_url_source_is_a_bad_row(
    tmp_path: Path, tfidf_bundle: Path, probes: ProbeLog
) -> None:
    output = tmp_path / "out.csv"
    args = ["--model", str(tfidf_bundle), "--output", str(output), "--json"]
    result = run_cli("predict", "--input-file", "http://[::1/x.csv", *args, home=tmp_path)
    summary = json.loads(result.stdout) if result.returncode == 0 else {}
    probes.record(
        "predict --input-file 'http://[::1/x.csv'",
        expected="a rejected row naming the source, no traceback",
        observed=f"exit {result.returncode}, bad rows {summary.get('bad_rows')}",
        ok=summary.get("bad_rows") == 1 and "Traceback" not in result.stderr,
    )
    assert summary["bad_rows"] == 1 and "Traceback" not in result.stderr


def test_a_missing_store_stays_missing(workspace: Path, probes: ProbeLog) -> None:
    result = run_cli("registry", "list", home=workspace)
    created = (workspace / "mlruns").exists()
    probes.record(
        "registry list with the store missing",
        expected="exit 4 naming the file, no store created",
        observed=f"exit {result.returncode}, store created: {created}",
        ok=result.returncode == 4 and not created,
    )
    assert result.returncode == 4 and not created
    assert str(workspace / "mlruns" / "mlflow.db") in result.stderr


def test_a_damaged_store_shows_no_driver_text(
    lifecycle_settings: Settings, probes: ProbeLog
) -> None:
    store = lifecycle_settings.home / "mlruns" / "mlflow.db"
    with sqlite3.connect(store) as db:
        db.execute("ALTER TABLE registered_models DROP COLUMN description")
    result = run_cli("registry", "list", home=lifecycle_settings.home)
    leaks = [w for w in ("[SQL:", "SELECT", "sqlalche.me") if w in result.stderr]
    probes.record(
        "a CLI command on a damaged registry store",
        expected="exit 4, one line, no SQL or driver link",
        observed=f"exit {result.returncode}, {len(result.stderr.splitlines())} line(s), "
        f"driver text: {leaks or 'none'}",
        ok=result.returncode == 4 and not leaks,
    )
    assert result.returncode == 4 and not leaks


@pytest.mark.integration  # the command in a process of its own, its memory read from /proc
def test_a_two_gigabyte_line_is_a_rejected_row_in_bounded_memory(
    tmp_path: Path, tfidf_bundle: Path, probes: ProbeLog
) -> None:
    source = sparse(tmp_path / "one-line.txt", b"", b"")
    command = [str(Path(sys.executable).with_name("emotion-clf")), "predict"]
    command += ["--input-file", str(source), "--model", str(tfidf_bundle)]
    command += ["--output", str(tmp_path / "out.csv"), "--json"]
    env = {**os.environ, "EMOTION_CLF_HOME": str(tmp_path / "home")}
    code, stdout, stderr, peak_mib = run_measured(command, env, tmp_path)
    summary = json.loads(stdout) if code == 0 else {}
    probes.record(
        "predict --input-file of one 2 GB line",
        expected="a rejected row, peak RSS < 1 GiB",
        observed=f"bad rows {summary.get('bad_rows')}, peak RSS {peak_mib:.0f} MiB",
        ok=summary.get("bad_rows") == 1 and peak_mib < 1024,
    )
    assert code == 0, stderr
    assert summary["bad_rows"] == 1 and peak_mib < 1024

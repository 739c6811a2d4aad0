"""The command line and the registry's store: a command that only reads never creates one,
only registering does (and says so), and a damaged store is one plain line, with what the
driver said behind it only at ``--log-level debug``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from emotion_clf.config import Settings
from emotion_clf.errors import RegistryUnavailableError
from tests.cli.helpers import run_cli

# (arguments, exit code): every command that reads the registry, and the writers that need
# it to exist; ``drift check`` keeps its documented 2 for any error
REFUSED: dict[str, tuple[tuple[str, ...], int]] = {
    "registry list": (("registry", "list"), RegistryUnavailableError.exit_code),
    "registry show": (("registry", "show", "1"), RegistryUnavailableError.exit_code),
    "registry history": (("registry", "history"), RegistryUnavailableError.exit_code),
    "predict": (("predict", "What a day!"), RegistryUnavailableError.exit_code),
    "evaluate": (("evaluate", "--model", "baseline", "--data", "{data}"), 4),
    "compare": (("compare", "--data", "{data}"), 4),
    "perf-report": (("perf-report",), 4),
    "drift check": (("drift", "check", "--current", "{data}"), 2),
    "promote": (("promote", "--force", "--reason", "test"), 4),
    "rollback": (("rollback", "--to", "1"), 4),
    "registry unlock": (("registry", "unlock"), 4),
}


def store_of(home: Path) -> Path:
    return home / "mlruns" / "mlflow.db"


@pytest.mark.parametrize("command", list(REFUSED))
def test_without_a_store_a_command_says_where_it_looked_and_creates_nothing(
    command: str, workspace: Path, small_data: Path
) -> None:
    template, code = REFUSED[command]
    args = [a.format(data=small_data) for a in template]
    result = run_cli(*args, home=workspace)
    assert result.returncode == code, result.stderr
    assert "the registry store does not exist" in result.stderr
    assert str(store_of(workspace)) in result.stderr
    assert "Traceback" not in result.stderr
    assert not (workspace / "mlruns").exists()


def test_training_with_register_creates_the_store_and_says_so(
    workspace: Path, small_data: Path
) -> None:
    bundle = workspace / "bundle"
    trained = run_cli(
        "train",
        "--family",
        "tfidf",
        "--data",
        str(small_data),
        "--out",
        str(bundle),
        "--register",
        home=workspace,
    )
    assert trained.returncode == 0, trained.stderr
    assert f"created a new registry at sqlite:///{store_of(workspace)}" in trained.stderr
    assert store_of(workspace).is_file()

    again = run_cli("registry", "register", str(bundle), home=workspace)
    assert again.returncode == 0, again.stderr
    assert "registered" in again.stderr and "as version 2" in again.stderr
    assert "created a new registry" not in again.stderr
    listed = run_cli("registry", "list", "--json", home=workspace)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count('"version"') == 2


def garble(store: Path) -> None:
    store.write_bytes(b"this is not a database\n" * 100)


def drop_a_column(store: Path) -> None:
    """A store SQLite opens and whose tables are all there, but that MLflow's queries fail
    on: the driver's error (the SQL, a sqlalche.me link) reaches the registry."""
    with sqlite3.connect(store) as db:
        db.execute("ALTER TABLE registered_models DROP COLUMN description")


DAMAGE = {
    "not a database": (
        garble,
        "the registry store is not a readable SQLite database",
        "file is not a database",
    ),
    "a table damaged": (drop_a_column, "the registry store cannot be read", "[SQL:"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_store_is_one_line_and_the_driver_text_only_at_debug(
    damage: str, lifecycle_settings: Settings
) -> None:
    home = lifecycle_settings.home
    spoil, message, driver_words = DAMAGE[damage]
    spoil(store_of(home))

    plain = run_cli("registry", "list", home=home)
    assert plain.returncode == RegistryUnavailableError.exit_code, plain.stderr
    [line] = plain.stderr.strip().splitlines()
    assert line.startswith("error: ") and message in line
    assert "--log-level debug" in line
    for driver_text in ("[SQL:", "SELECT", "sqlalche.me", "(sqlite3.", driver_words):
        assert driver_text not in line

    debug = run_cli("--log-level", "debug", "registry", "list", home=home)
    assert debug.returncode == plain.returncode
    assert message in debug.stderr and "detail: " in debug.stderr
    assert driver_words in debug.stderr

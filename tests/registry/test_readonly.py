"""Opening the registry read-only, as a server does: it never creates a store, and a store
it cannot read is "unavailable" with the particulars in the error's detail, not its message."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from emotion_clf.errors import RegistryError, RegistryStoreError
from emotion_clf.registry import fetch_model, open_registry
from tests.serving.helpers import make_settings


def store_of(home: Path) -> Path:
    return home / "mlruns" / "mlflow.db"


def remove(store: Path) -> None:
    store.unlink()


def garble(store: Path) -> None:
    store.write_bytes(b"this is not a database\n" * 100)


def another_schema(store: Path) -> None:
    with sqlite3.connect(store) as db:
        db.execute("UPDATE alembic_version SET version_num = 'abcdef123456'")


def foreign_database(store: Path) -> None:
    store.unlink()
    with sqlite3.connect(store) as db:
        db.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY)")


FAULTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (remove, "the registry store does not exist"),
    "corrupt": (garble, "the registry store is not a readable SQLite database"),
    "another schema": (another_schema, "another schema than this MLflow reads"),
    "not a registry": (foreign_database, "the registry store is not an MLflow registry"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_store_that_cannot_be_read_is_unavailable_and_nothing_is_created(
    home: Path, fault: str
) -> None:
    damage, message = FAULTS[fault]
    store = store_of(home)
    damage(store)
    before = store.read_bytes() if store.exists() else None
    settings = make_settings(home)
    with pytest.raises(RegistryStoreError) as caught:
        open_registry(settings, read_only=True).resolve("baseline")
    assert message in caught.value.message
    assert str(store) not in caught.value.public  # the path is for the log and the CLI only
    assert caught.value.where == str(store) and str(store) in str(caught.value)
    assert (store.read_bytes() if store.exists() else None) == before  # untouched, not created

    # fetching falls back to the last verified copy this machine has, and says why
    resolved = fetch_model("baseline", settings=settings, read_only=True)
    assert resolved.offline and resolved.version == "1"
    assert resolved.offline_reason is not None and message in resolved.offline_reason


def test_a_missing_store_folder_is_not_created(empty_home: Path, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "nowhere")
    with pytest.raises(RegistryStoreError, match="does not exist"):
        open_registry(settings, read_only=True)
    assert not (tmp_path / "nowhere").exists()


def test_a_read_only_registry_reads_and_refuses_to_write(home: Path) -> None:
    registry = open_registry(make_settings(home), read_only=True)
    assert registry.resolve("baseline").version == "1"
    assert registry.designations() == {"baseline": "1", "dynamic": "2"}
    with pytest.raises(RegistryError, match="opened read-only"):
        registry.set_designation("baseline", "2")
    assert open_registry(make_settings(home)).designations()["baseline"] == "1"


def test_a_writer_that_may_not_create_a_registry_refuses_a_missing_store(tmp_path: Path) -> None:
    """Promotion, rollback and unlock open the registry so: a lost store stays lost."""
    settings = make_settings(tmp_path / "home")
    with pytest.raises(RegistryStoreError, match="does not exist") as caught:
        open_registry(settings, create=False)
    assert caught.value.where == str(store_of(tmp_path / "home"))
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("fault", ["corrupt", "another schema", "not a registry"])
def test_a_writer_refuses_a_damaged_store_even_where_it_may_create_one(
    home: Path, fault: str
) -> None:
    damage, message = FAULTS[fault]
    store = store_of(home)
    damage(store)
    before = store.read_bytes()
    with pytest.raises(RegistryStoreError) as caught:
        open_registry(make_settings(home), create=True)
    assert message in caught.value.message
    assert store.read_bytes() == before  # MLflow would have added its tables to any SQLite file


def test_only_the_open_that_creates_the_store_says_it_did(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    assert open_registry(settings).created
    assert store_of(tmp_path / "home").is_file()
    assert not open_registry(settings).created
    assert not open_registry(settings, read_only=True).created


def test_reading_the_audit_log_before_any_promotion_creates_nothing(empty_home: Path) -> None:
    """A read-only registry reads an empty log (it used to create the audit experiment)."""
    before = store_of(empty_home).read_bytes()
    registry = open_registry(make_settings(empty_home), read_only=True)
    assert registry.audit.entries() == []
    assert registry.audit.previous_baseline("1") is None
    assert store_of(empty_home).read_bytes() == before

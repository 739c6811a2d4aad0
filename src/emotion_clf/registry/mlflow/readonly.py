"""Checking an embedded SQLite registry store before MLflow opens it.

Opened the ordinary way, MLflow creates what is missing: the store's folder, the file, the
tables (in any SQLite file, even another program's). So a registry store is created only on
purpose (training with ``--register``, ``registry register``): before MLflow sees the store,
:func:`check_store` reads it with SQLite itself, read-only, and refuses a store that is
missing, not a SQLite database (corrupt), not an MLflow store, or of another MLflow schema
revision. A reader (a server, a command that only reads) then gets :func:`read_only_uri`,
which SQLite opens read-only (``mode=ro``), so nothing can be written even if the file
changes in between; a writer gets :func:`prepare_store`, which checks an existing store and
creates a missing one only when asked to. Each refusal is a
:class:`~emotion_clf.errors.RegistryStoreError` with a short message, the store's path as its
``where`` and SQLite's own words in its ``detail``.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from emotion_clf.errors import RegistryStoreError

SQLITE_PREFIX = "sqlite:///"
# what reading designations, versions and their tags needs
REQUIRED_TABLES = frozenset(
    {
        "alembic_version",
        "experiments",
        "registered_models",
        "model_versions",
        "model_version_tags",
        "registered_model_aliases",
    }
)


def sqlite_path(uri: str) -> Path | None:
    """The file of a ``sqlite:///`` URI (None for any other store)."""
    if not uri.startswith(SQLITE_PREFIX):
        return None
    return Path(uri[len(SQLITE_PREFIX) :].split("?", 1)[0])


def read_only_uri(path: Path) -> str:
    """A URI MLflow accepts and SQLite opens read-only.

    ``sqlite+pysqlite`` rather than ``sqlite``: MLflow creates the parent folder of any
    ``sqlite:///`` path it is given, and would read ``file:...`` as a relative folder.
    """
    return f"sqlite+pysqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true"


@lru_cache(maxsize=1)
def expected_revision() -> str:
    """The schema revision this MLflow reads and writes (its migrations' head).

    Not kept across processes: computing it takes about 10 ms, the rest of its cost is
    importing ``mlflow.store.db.utils`` (alembic, SQLAlchemy), which the ``MlflowClient`` opened
    next imports anyway, its tracking store computing this same revision to verify the schema.
    Measured on ``open_registry(read_only=True).resolve("baseline")``, a revision known in
    advance saved about 20 ms of 1.25 s.
    """
    from mlflow.store.db.utils import _get_latest_schema_revision

    return str(_get_latest_schema_revision())


def check_store(path: Path) -> None:
    """Raise :class:`RegistryStoreError` unless ``path`` is an MLflow store of this
    MLflow's schema. Reads only; creates nothing."""
    where = str(path)
    if not path.is_file():
        raise RegistryStoreError("the registry store does not exist", where=where)
    try:
        with closing(sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            missing = REQUIRED_TABLES - tables
            if missing:
                raise RegistryStoreError(
                    "the registry store is not an MLflow registry",
                    where=where,
                    detail=f"{path} lacks the table(s) {', '.join(sorted(missing))}",
                )
            rows = db.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error as exc:  # "file is not a database", "database disk image is malformed"
        raise RegistryStoreError(
            "the registry store is not a readable SQLite database",
            where=where,
            detail=f"{path}: {exc}",
        ) from exc
    found = rows[0][0] if len(rows) == 1 else None
    expected = expected_revision()
    if found != expected:
        raise RegistryStoreError(
            "the registry store has another schema than this MLflow reads",
            where=where,
            detail=f"{path} is at schema revision {found}, this MLflow reads {expected} "
            "(`mlflow db upgrade` migrates a store)",
        )


def prepare_store(path: Path, *, create: bool) -> bool:
    """Make ``path`` ready for a writer: an existing store is checked (:func:`check_store`);
    a missing one is refused, or with ``create`` its folder is made for MLflow to create the
    store in. True when the store is to be created."""
    if path.exists() or not create:
        check_store(path)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    return True

"""Reading one version of an embedded SQLite registry without importing MLflow.

A one-off ``emotion-clf predict "text"`` with ``--model baseline`` only needs to know which
version the designation points at and that version's digest, then finds the bundle in the
local cache. Importing MLflow and opening its client to ask that costs more than a second
on every call, most of the command's time. So for a SQLite store this module reads the few
rows itself, read-only, and :func:`~emotion_clf.registry.fetch.fetch_model` uses them only
when the cache already holds that exact digest; anything else (a miss, a registry server,
Azure ML) takes the ordinary way through MLflow.

Reading MLflow's tables directly is safe only for the schema they were read with, so the
store's schema revision must equal the one this MLflow writes. That revision is recorded
(:func:`remember_revision`) the first time MLflow itself checks a store, keyed by MLflow's
version; until then, or when the versions or the revision differ, or a query fails, the
answer is None and MLflow is asked instead.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from urllib.parse import quote

from emotion_clf.files import write_atomic
from emotion_clf.registry.base import DESIGNATIONS, VersionInfo

DELETED = "Deleted_Internal"  # MLflow's stage of a deleted version (still a row)
REVISION_FILE = "mlflow-schema.json"


def _mlflow_version() -> str | None:
    try:
        return package_version("mlflow")
    except PackageNotFoundError:
        return None


def remember_revision(cache_dir: Path, revision: str) -> None:
    """Record the schema revision this MLflow reads (called where MLflow computed it)."""
    record = {"mlflow": _mlflow_version(), "revision": revision}
    path = cache_dir / REVISION_FILE
    try:
        if path.is_file() and json.loads(path.read_text()) == record:
            return
        write_atomic(path, json.dumps(record))
    except (OSError, ValueError):
        pass  # only an optimisation: MLflow is asked next time


def known_revision(cache_dir: Path) -> str | None:
    """The revision recorded for the installed MLflow, or None."""
    try:
        record = json.loads((cache_dir / REVISION_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("mlflow") != _mlflow_version():
        return None
    revision = record.get("revision")
    return revision if isinstance(revision, str) else None


def _iso(millis: int | None) -> str:
    if not millis:
        return ""
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="seconds")


def read_version(store: Path, model_name: str, ref: str, *, revision: str) -> VersionInfo | None:
    """``ref`` (a designation or a version number) of ``model_name`` as the MLflow registry
    would describe it, or None whenever MLflow should be asked instead."""
    try:
        with closing(sqlite3.connect(f"file:{quote(str(store))}?mode=ro", uri=True)) as db:
            if db.execute("SELECT version_num FROM alembic_version").fetchall() != [(revision,)]:
                return None
            aliases = db.execute(
                "SELECT alias, version FROM registered_model_aliases WHERE name = ?",
                (model_name,),
            ).fetchall()
            designations = {str(a): str(v) for a, v in aliases if a in DESIGNATIONS}
            version = ref if ref.isdigit() else designations.get(ref)
            if version is None:
                return None
            rows = db.execute(
                "SELECT version, creation_time, source, run_id FROM model_versions "
                "WHERE name = ? AND version = ? AND current_stage != ?",
                (model_name, int(version), DELETED),
            ).fetchall()
            if len(rows) != 1:
                return None
            tags = db.execute(
                "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ?",
                (model_name, int(version)),
            ).fetchall()
    except (sqlite3.Error, ValueError):
        return None
    number, created, source, run_id = rows[0]
    return VersionInfo(
        version=str(number),
        designations=tuple(d for d in DESIGNATIONS if designations.get(d) == str(number)),
        created_at=_iso(created),
        source=str(source),
        run_id=run_id,
        tags={str(k): str(v) for k, v in tags},
    )

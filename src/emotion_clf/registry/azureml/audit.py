"""The promotion audit log on the Azure ML backend: one JSON blob per entry.

Entries live under ``<prefix>/audit/`` in the registry's blob container, named by their UTC
start time (microseconds) and a random suffix, so a listing sorted by name is the log in order
and two processes never write the same blob. An entry is created ``open`` before the
designation moves (create-only, so nothing is overwritten) and closed ``applied`` or
``failed`` after, each update a compare-and-set on the blob's ETag; an ``open`` entry whose
writer no longer holds the lock reads as ``interrupted``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from emotion_clf.errors import ModelNotFoundError, RegistryError
from emotion_clf.registry.azureml.calls import azure_errors, read_json, write_json
from emotion_clf.registry.base import AuditEntry, AuditStore

_ATTEMPTS = 10


class BlobAuditStore(AuditStore):
    """``container`` is an ``azure.storage.blob.ContainerClient``; ``prefix`` ends with ``/``."""

    def __init__(self, container: Any, *, prefix: str) -> None:
        self.container = container
        self.prefix = prefix

    def _blob(self, entry_id: str) -> Any:
        return self.container.get_blob_client(f"{self.prefix}{entry_id}.json")

    def start(
        self,
        *,
        action: str,
        from_version: str | None,
        to_version: str,
        actor: str,
        reason: str,
        forced: bool,
        gate: Mapping[str, Any] | None,
    ) -> str:
        now = datetime.now(UTC)
        entry_id = f"{now:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"
        entry = {
            "id": entry_id,
            "action": action,
            "from_version": from_version,
            "to_version": to_version,
            "at": now.isoformat(timespec="seconds"),
            "actor": actor,
            "reason": reason,
            "forced": forced,
            "gate": {"decision": gate["decision"], "reasons": gate["reasons"]} if gate else None,
            "status": "open",
            "notes": {},
        }
        if not write_json(
            self._blob(entry_id), entry, action="writing the audit entry", create=True
        ):
            raise RegistryError(f"writing the audit entry: {entry_id} exists already")
        return entry_id

    def _update(self, entry_id: str, change: Callable[[dict[str, Any]], None], action: str) -> None:
        blob = self._blob(entry_id)
        for _ in range(_ATTEMPTS):
            entry, etag = read_json(blob, action=action)
            if etag is None:
                raise ModelNotFoundError(f"{action}: no audit entry {entry_id}")
            change(entry)
            if write_json(blob, entry, action=action, etag=etag):
                return
        raise RegistryError(f"{action}: entry {entry_id} kept changing; try again")

    def finish(self, entry_id: str, *, ok: bool, error: str | None = None) -> None:
        def close(entry: dict[str, Any]) -> None:
            entry["status"] = "applied" if ok else "failed"
            entry["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
            if error:
                entry["error"] = error

        self._update(entry_id, close, "closing the audit entry")

    def annotate(self, entry_id: str, key: str, value: str) -> None:
        def note(entry: dict[str, Any]) -> None:
            entry.setdefault("notes", {})[key] = value

        self._update(entry_id, note, "annotating the audit entry")

    def entries(self, *, limit: int = 200, lock_holder: str | None = None) -> list[AuditEntry]:
        with azure_errors("reading the audit log"):
            names = sorted(
                (b.name for b in self.container.list_blobs(name_starts_with=self.prefix)),
                reverse=True,
            )
        out = []
        for name in names[:limit]:
            entry, etag = read_json(
                self.container.get_blob_client(name), action="reading the audit log"
            )
            if etag is None:
                continue  # listed, then removed by hand: the rest of the log still stands
            status = str(entry.get("status", "open"))
            if status == "open":
                status = "in progress" if entry.get("id") == lock_holder else "interrupted"
            gate = entry.get("gate")
            out.append(
                AuditEntry(
                    id=str(entry.get("id", "")),
                    action=str(entry.get("action", "")),
                    from_version=entry.get("from_version") or None,
                    to_version=str(entry.get("to_version", "")),
                    at=str(entry.get("at", "")),
                    actor=str(entry.get("actor", "")),
                    reason=str(entry.get("reason", "")),
                    forced=bool(entry.get("forced")),
                    gate=json.dumps(gate) if gate else "",
                    status=status,
                    notes={str(k): str(v) for k, v in (entry.get("notes") or {}).items()},
                )
            )
        return out

"""The promotion audit log, kept in the registry as MLflow runs.

Each promotion or rollback is one run in the ``<experiment>-audit`` experiment: tags hold the
action, from and to versions, who, why, whether it was forced and the gate's summary. The run
is started *before* the designation moves and finished after, so a process killed in between
leaves a visible ``interrupted`` entry rather than a silent gap. Because it lives in the
registry, every machine reads the same history, and it survives restarts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from emotion_clf.registry.store import Registry, mlflow_errors

_GATE_TAG_LIMIT = 4000


@dataclass(frozen=True)
class AuditEntry:
    id: str
    action: str
    from_version: str | None
    to_version: str
    at: str
    actor: str
    reason: str
    forced: bool
    gate: str
    status: str  # applied | failed | in progress | interrupted

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "at": self.at,
            "actor": self.actor,
            "reason": self.reason,
            "forced": self.forced,
            "gate": self.gate,
            "status": self.status,
        }


class AuditLog:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.experiment_name = f"{registry.experiment_name}-audit"

    def _experiment(self) -> str:
        return self.registry.experiment_id(self.experiment_name)

    def start(
        self,
        *,
        action: str,
        from_version: str | None,
        to_version: str,
        actor: str,
        reason: str,
        forced: bool,
        gate: dict[str, Any] | None,
    ) -> str:
        gate_text = json.dumps(
            {"decision": gate["decision"], "reasons": gate["reasons"]} if gate else None
        )[:_GATE_TAG_LIMIT]
        tags = {
            "action": action,
            "from_version": from_version or "",
            "to_version": to_version,
            "actor": actor,
            "reason": reason,
            "forced": str(forced).lower(),
            "gate": gate_text,
        }
        with mlflow_errors("writing the audit entry"):
            run = self.registry.client.create_run(
                self._experiment(),
                run_name=f"{action} v{from_version or '-'} -> v{to_version}",
                tags=tags,
            )
        return str(run.info.run_id)

    def finish(self, entry_id: str, *, ok: bool, error: str | None = None) -> None:
        with mlflow_errors("closing the audit entry"):
            if error:
                self.registry.client.set_tag(entry_id, "error", error[:_GATE_TAG_LIMIT])
            self.registry.client.set_terminated(entry_id, status="FINISHED" if ok else "FAILED")

    def entries(self, *, limit: int = 200, lock_holder: str | None = None) -> list[AuditEntry]:
        """Newest first. ``lock_holder`` is the audit id of a promotion now holding the lock."""
        with mlflow_errors("reading the audit log"):
            runs = self.registry.client.search_runs(
                [self._experiment()], order_by=["attributes.start_time DESC"], max_results=limit
            )
        out = []
        for run in runs:
            tags = run.data.tags
            status = {"FINISHED": "applied", "FAILED": "failed"}.get(run.info.status)
            if status is None:
                status = "in progress" if run.info.run_id == lock_holder else "interrupted"
            out.append(
                AuditEntry(
                    id=run.info.run_id,
                    action=tags.get("action", ""),
                    from_version=tags.get("from_version") or None,
                    to_version=tags.get("to_version", ""),
                    at=datetime.fromtimestamp(run.info.start_time / 1000, UTC).isoformat(
                        timespec="seconds"
                    ),
                    actor=tags.get("actor", ""),
                    reason=tags.get("reason", ""),
                    forced=tags.get("forced") == "true",
                    gate=tags.get("gate", ""),
                    status=status,
                )
            )
        return out

    def previous_baseline(self, current: str | None) -> str | None:
        """The baseline before ``current``: the from-version of the last applied change to it."""
        for entry in self.entries():
            if entry.status == "applied" and entry.to_version == current:
                return entry.from_version
        return None

"""The promotion audit log on an MLflow registry, kept as runs.

Each promotion or rollback is one run in the ``<experiment>-audit`` experiment: tags hold the
action, from and to versions, who, why, whether it was forced and the gate's summary. The run
is RUNNING while the change is made and FINISHED (applied) or FAILED after; a run left RUNNING
by a killed process reads as ``interrupted``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from emotion_clf.registry.base import AuditEntry, AuditStore
from emotion_clf.registry.mlflow.calls import mlflow_errors

if TYPE_CHECKING:
    from mlflow import MlflowClient

_TAG_LIMIT = 4000
NOTE_PREFIX = "note."


class MlflowAuditStore(AuditStore):
    """``experiment`` gives the audit experiment's id, creating it on first use (writing an
    entry); ``existing`` gives it only if it exists: reading the log creates nothing, so a
    registry opened read-only reads an empty log before the first promotion."""

    def __init__(
        self,
        client: MlflowClient,
        *,
        experiment: Callable[[], str],
        existing: Callable[[], str | None],
    ) -> None:
        self.client = client
        self._experiment = experiment
        self._existing = existing

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
        gate_text = json.dumps(
            {"decision": gate["decision"], "reasons": gate["reasons"]} if gate else None
        )[:_TAG_LIMIT]
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
            run = self.client.create_run(
                self._experiment(),
                run_name=f"{action} v{from_version or '-'} -> v{to_version}",
                tags=tags,
            )
        return str(run.info.run_id)

    def finish(self, entry_id: str, *, ok: bool, error: str | None = None) -> None:
        client = self.client
        with mlflow_errors("closing the audit entry"):
            if error:
                client.set_tag(entry_id, "error", error[:_TAG_LIMIT])
            client.set_terminated(entry_id, status="FINISHED" if ok else "FAILED")

    def annotate(self, entry_id: str, key: str, value: str) -> None:
        with mlflow_errors("annotating the audit entry"):
            self.client.set_tag(entry_id, f"{NOTE_PREFIX}{key}", value[:_TAG_LIMIT])

    def entries(self, *, limit: int = 200, lock_holder: str | None = None) -> list[AuditEntry]:
        experiment = self._existing()
        if experiment is None:
            return []  # no promotion yet
        with mlflow_errors("reading the audit log"):
            runs = self.client.search_runs(
                [experiment], order_by=["attributes.start_time DESC"], max_results=limit
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
                    notes={
                        k[len(NOTE_PREFIX) :]: v
                        for k, v in tags.items()
                        if k.startswith(NOTE_PREFIX)
                    },
                )
            )
        return out

"""A promotion drives the rollouts it is given after the baseline moves, and the audit entry
records what each did (here on the embedded MLflow registry, with rollouts that record the
version they were told to serve)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from emotion_clf.config import Settings
from emotion_clf.errors import ConfigError
from emotion_clf.promotion import promote, rollback
from emotion_clf.registry import open_registry
from emotion_clf.training import TrainResult


@dataclass
class Result:
    ok: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "message": self.message}


@dataclass
class RecordingRollout:
    name: str
    ok: bool = True
    error: Exception | None = None
    versions: list[str] = field(default_factory=list)
    baseline_seen: list[str | None] = field(default_factory=list)
    settings: Settings | None = None

    def roll_out(self, version: str) -> Result:
        self.versions.append(version)
        if self.settings is not None:  # the designation has moved before any rollout runs
            self.baseline_seen.append(open_registry(self.settings).designations().get("baseline"))
        if self.error is not None:
            raise self.error
        return Result(self.ok, f"{self.name} serves v{version}" if self.ok else "check failed")


def test_rollouts_follow_the_baseline_and_the_audit_records_them(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    endpoint = RecordingRollout("endpoint:emotion-clf", settings=lifecycle_settings)
    result = promote(
        settings=lifecycle_settings, force=True, reason="first", refresh=False, rollouts=[endpoint]
    )
    assert endpoint.versions == ["1"] and endpoint.baseline_seen == ["1"]
    assert not result.rollout_failed
    assert result.to_dict()["rollouts"] == [
        {
            "name": "endpoint:emotion-clf",
            "ok": True,
            "message": "endpoint:emotion-clf serves v1",
            "detail": {"ok": True, "message": "endpoint:emotion-clf serves v1"},
        }
    ]
    [entry] = registry.audit.entries()
    note = json.loads(entry.notes["rollout.endpoint:emotion-clf"])
    assert entry.status == "applied" and note["ok"] and note["message"].endswith("v1")
    # a rollback passes no rollouts: the entry has no note
    registry.register(weak_result)
    promote(settings=lifecycle_settings, force=True, reason="second", refresh=False)
    rollback(settings=lifecycle_settings, refresh=False)
    assert registry.audit.entries()[0].notes == {}


def test_a_failed_rollout_is_reported_and_does_not_stop_the_others(
    lifecycle_settings: Settings, weak_result: TrainResult
) -> None:
    open_registry(lifecycle_settings).register(weak_result)
    failing = RecordingRollout("endpoint:a", ok=False)
    broken = RecordingRollout("endpoint:b", error=ConfigError("set EMOTION_CLF_AZURE_WORKSPACE"))
    fine = RecordingRollout("endpoint:c")
    result = promote(
        settings=lifecycle_settings,
        force=True,
        reason="x",
        refresh=False,
        rollouts=[failing, broken, fine],
    )
    assert result.changed and result.rollout_failed
    assert [(r.name, r.ok) for r in result.rollouts] == [
        ("endpoint:a", False),
        ("endpoint:b", False),
        ("endpoint:c", True),
    ]
    assert "EMOTION_CLF_AZURE_WORKSPACE" in result.rollouts[1].message
    assert fine.versions == ["1"]
    notes = open_registry(lifecycle_settings).audit.entries()[0].notes
    assert sorted(notes) == ["rollout.endpoint:a", "rollout.endpoint:b", "rollout.endpoint:c"]
    assert json.loads(notes["rollout.endpoint:a"])["message"] == "check failed"

"""Concurrent promotions and promotions killed between their steps."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from emotion_clf.config import Settings
from emotion_clf.errors import PromotionConflictError
from emotion_clf.promotion import apply_designation, promote
from emotion_clf.registry import ModelRegistry, open_registry
from emotion_clf.training import TrainResult
from tests.cli.helpers import CLI, run_cli


@pytest.fixture
def two_versions(lifecycle_settings: Settings, weak_result: TrainResult) -> ModelRegistry:
    """v1 is the baseline, v2 is a registered candidate."""
    registry = open_registry(lifecycle_settings)
    registry.register(weak_result)
    promote(settings=lifecycle_settings, refresh=False)
    registry.register(weak_result)
    return registry


def test_a_held_lock_refuses_a_second_promotion_and_changes_nothing(
    lifecycle_settings: Settings, two_versions: ModelRegistry
) -> None:
    other = two_versions.promotion_lock(ttl_s=600, holder="someone-else")
    other.acquire()
    with pytest.raises(
        PromotionConflictError, match="another promotion is in progress .*someone-else"
    ):
        promote(settings=lifecycle_settings, force=True, reason="x", refresh=False)
    assert two_versions.designations()["baseline"] == "1"
    assert len(two_versions.audit.entries()) == 1
    other.release()
    assert (
        promote(settings=lifecycle_settings, force=True, reason="x", refresh=False).to_version
        == "2"
    )


def test_the_loser_of_a_race_fails_clearly(
    lifecycle_settings: Settings, two_versions: ModelRegistry
) -> None:
    # decided against v1, but another promotion moved the baseline to v2 meanwhile
    two_versions.set_designation("baseline", "2")
    with pytest.raises(PromotionConflictError, match="moved from v1 to v2"):
        apply_designation(
            two_versions,
            settings=lifecycle_settings,
            action="promote",
            expected_from="1",
            to_version="2",
            reason="x",
            forced=True,
            decision=None,
        )
    assert len(two_versions.audit.entries()) == 1
    assert two_versions.lock_state() is None  # released


def test_concurrent_promotions_leave_one_baseline_and_a_complete_audit(
    lifecycle_settings: Settings, two_versions: ModelRegistry, weak_result: TrainResult
) -> None:
    two_versions.register(weak_result)
    two_versions.register(weak_result)
    env = {
        **os.environ,
        "EMOTION_CLF_HOME": str(lifecycle_settings.home),
        "EMOTION_CLF_REFRESH_ENDPOINTS": "",
    }
    racers = [
        subprocess.Popen(
            [CLI, "promote", "--version", version, "--force", "--reason", f"race {version}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for version in ("2", "3", "4")
    ]
    outcomes = [(p.wait(timeout=180), p.stderr.read() if p.stderr else "") for p in racers]
    winners = [code for code, _ in outcomes if code == 0]
    for code, stderr in outcomes:
        assert "Traceback" not in stderr
        if code != 0:
            assert "another promotion is in progress" in stderr or "baseline moved" in stderr, (
                stderr
            )
    assert winners, outcomes
    entries = two_versions.audit.entries()
    applied = [e for e in entries if e.status == "applied"]
    assert len(applied) == len(winners) + 1  # + the first baseline
    assert all(e.status == "applied" for e in entries)
    assert two_versions.designations()["baseline"] == applied[0].to_version
    assert two_versions.lock_state() is None


KILL_AT = {
    # patched function -> runs os.kill(SIGKILL) instead of (or right before) it
    "lock taken": "emotion_clf.registry.mlflow.audit.MlflowAuditStore.start",
    "audit opened": "emotion_clf.registry.mlflow.store.MlflowRegistry.set_designation",
    "alias moved": "emotion_clf.registry.mlflow.audit.MlflowAuditStore.finish",
}


def promote_and_die(settings: Settings, step: str) -> int:
    module, _, attr = KILL_AT[step].rpartition(".")
    module_name, _, cls = module.rpartition(".")
    script = textwrap.dedent(
        f"""
        import os, signal, importlib
        from emotion_clf.config import Settings
        from emotion_clf.promotion import promote
        owner = getattr(importlib.import_module({module_name!r}), {cls!r})
        real = getattr(owner, {attr!r})
        def die(self, *args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        setattr(owner, {attr!r}, die)
        promote(settings=Settings(), force=True, reason="killed", refresh=False)
        """
    )
    env = {
        **os.environ,
        "EMOTION_CLF_HOME": str(settings.home),
        "EMOTION_CLF_REFRESH_ENDPOINTS": "",
    }
    return subprocess.run([sys.executable, "-c", script], env=env, timeout=120).returncode


# each kill point costs about 20 s (a process and two command line calls); the default run keeps
# the one that leaves the most to recover (audit open, baseline not moved, the lock held)
@pytest.mark.parametrize(
    "step",
    [
        pytest.param(step, marks=[] if step == "audit opened" else [pytest.mark.slow])
        for step in KILL_AT
    ],
)
def test_a_promotion_killed_between_steps_leaves_one_baseline(
    lifecycle_settings: Settings, two_versions: ModelRegistry, step: str
) -> None:
    assert promote_and_die(lifecycle_settings, step) == -9
    baseline = two_versions.designations()["baseline"]
    assert baseline == ("2" if step == "alias moved" else "1")

    statuses = [e.status for e in two_versions.audit.entries()]
    assert statuses == (["applied"] if step == "lock taken" else ["interrupted", "applied"])

    again = run_cli("promote", "--force", "--reason", "after crash", home=lifecycle_settings.home)
    if baseline == "1":  # the dead process's lock blocks the next promotion, with a way out
        assert again.returncode != 0 and "emotion-clf registry unlock" in again.stderr
    else:  # the change went through before the kill; promoting again is a no-op
        assert again.returncode == 0 and "already the baseline" in again.stdout
    unlocked = run_cli("registry", "unlock", home=lifecycle_settings.home)
    assert unlocked.returncode == 0 and "promotion lock removed" in unlocked.stderr
    assert two_versions.audit.entries()[0].status == statuses[0]  # unlocking rewrites no history

    if baseline == "1":
        done = promote(settings=lifecycle_settings, force=True, reason="after crash", refresh=False)
        assert done.to_version == "2"
    assert two_versions.designations()["baseline"] == "2"


def test_a_stale_lock_is_broken_after_its_time_to_live(
    lifecycle_settings: Settings, two_versions: ModelRegistry
) -> None:
    two_versions.promotion_lock(ttl_s=600, holder="killed-process").acquire()
    expired = lifecycle_settings.updated(promotion_lock_ttl_s=0.0)
    assert promote(settings=expired, force=True, reason="x", refresh=False).to_version == "2"

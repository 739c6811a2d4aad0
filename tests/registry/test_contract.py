"""The registry's face, against every backend this machine can run: the embedded SQLite
store, a real ``mlflow server``, and the Azure ML backend on its stand-ins (Azurite for the
workspace's blob storage, an in-memory ``models`` operations object). A backend joins by
adding its settings to ``any_registry_settings``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from emotion_clf.config import Settings
from emotion_clf.errors import (
    DesignationConflictError,
    ModelNotFoundError,
    PromotionConflictError,
    RegistryError,
)
from emotion_clf.models import bundle_digest, verify_bundle
from emotion_clf.registry import ANY, ModelRegistry, open_registry


@pytest.fixture
def registry(any_registry_settings: Settings) -> ModelRegistry:
    return open_registry(any_registry_settings)


def test_versions_designations_and_download(
    registry: ModelRegistry, tfidf_bundle: Path, tmp_path: Path
) -> None:
    assert registry.versions() == [] and registry.designations() == {}
    first = registry.register_bundle(tfidf_bundle)
    second = registry.register_bundle(tfidf_bundle, designate=None)
    assert (first.version, second.version) == ("1", "2")
    assert registry.designations() == {"dynamic": "1"}
    assert [v.version for v in registry.versions()] == ["2", "1"]
    assert registry.version(1).digest == bundle_digest(tfidf_bundle)
    assert registry.version("1").metrics["test.emotion.accuracy"] > 0  # from the manifest
    with pytest.raises(ModelNotFoundError):
        registry.version("9")
    folder = registry.download(second, tmp_path / "download")
    verify_bundle(folder, expected_digest=second.digest)
    assert registry.location and "@" not in registry.location


def test_set_designation_is_a_compare_and_set(registry: ModelRegistry, tfidf_bundle: Path) -> None:
    registry.register_bundle(tfidf_bundle)
    registry.register_bundle(tfidf_bundle)
    registry.set_designation("baseline", "1", expected=None)  # not set yet, as expected
    with pytest.raises(DesignationConflictError, match="baseline points at v1, not v2") as e:
        registry.set_designation("baseline", "2", expected="2")
    assert (e.value.expected, e.value.actual) == ("2", "1")
    with pytest.raises(DesignationConflictError):
        registry.set_designation("baseline", "2", expected=None)
    assert registry.designations()["baseline"] == "1"  # unchanged by the refusals
    registry.set_designation("baseline", "2", expected="1")
    registry.set_designation("baseline", "1", expected=ANY)
    assert registry.designations() == {"baseline": "1", "dynamic": "2"}
    assert registry.resolve("baseline").designations == ("baseline",)
    with pytest.raises(ModelNotFoundError, match="unknown designation 'production'"):
        registry.set_designation("production", "1")


def test_the_lock_admits_one_holder_and_names_it(registry: ModelRegistry) -> None:
    first = registry.promotion_lock(ttl_s=600, holder="first")
    first.acquire()
    state = registry.lock_state()
    assert state is not None and state.holder == "first" and state.audit_id is None
    first.set_audit_id("entry-1")
    assert (registry.lock_state() or state).audit_id == "entry-1"
    with pytest.raises(PromotionConflictError, match="held by first pid"):
        registry.promotion_lock(ttl_s=600, holder="second").acquire()
    assert (registry.lock_state() or state).holder == "first"  # the loser left nothing
    first.release()
    assert registry.lock_state() is None
    with registry.promotion_lock(ttl_s=600, holder="second"):
        assert (registry.lock_state() or state).holder == "second"
    assert registry.lock_state() is None


def test_a_stale_lock_is_broken_after_its_time_to_live_or_by_hand(registry: ModelRegistry) -> None:
    registry.promotion_lock(ttl_s=600, holder="killed").acquire()  # never released
    with pytest.raises(PromotionConflictError):
        registry.promotion_lock(ttl_s=600, holder="patient").acquire()
    impatient = registry.promotion_lock(ttl_s=0, holder="impatient")
    impatient.acquire()
    assert (registry.lock_state() or pytest.fail("no holder")).holder == "impatient"
    assert registry.break_lock() is True
    assert registry.lock_state() is None and registry.break_lock() is False
    impatient.release()  # its ticket is gone: a warning, not an error


def test_of_many_contenders_at_once_exactly_one_wins(
    any_registry_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An MLflow server on SQLite answers 500 ("database is locked") when a burst of writers
    # outruns SQLite's single writer; MLflow's client retries those, as a user's would
    # (``registry_retries``). Other tests turn the retries off for this process.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "5")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    contenders = 6
    barrier = threading.Barrier(contenders)
    outcomes: list[str] = []
    registries = [open_registry(any_registry_settings) for _ in range(contenders)]

    def contend(i: int) -> None:
        lock = registries[i].promotion_lock(ttl_s=600, holder=f"c{i}")
        barrier.wait()
        try:
            lock.acquire()
        except PromotionConflictError:
            outcomes.append("lost")
        except RegistryError as exc:  # kept, so that a failure names it
            outcomes.append(f"error: {exc}")
        else:
            outcomes.append("won")  # and keeps it until every contender has tried

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(outcomes) == ["lost"] * (contenders - 1) + ["won"]
    assert registries[0].break_lock() is True


def test_the_audit_store_keeps_entries_newest_first(registry: ModelRegistry) -> None:
    audit = registry.audit
    first = audit.start(
        action="promote",
        from_version=None,
        to_version="1",
        actor="me",
        reason="first",
        forced=True,
        gate=None,
    )
    audit.finish(first, ok=True)
    second = audit.start(
        action="promote",
        from_version="1",
        to_version="2",
        actor="me",
        reason="second",
        forced=False,
        gate={"decision": "promote", "reasons": ["pass significant gain: ..."]},
    )
    failed = audit.start(
        action="rollback",
        from_version="2",
        to_version="1",
        actor="you",
        reason="third",
        forced=False,
        gate=None,
    )
    audit.finish(failed, ok=False, error="boom")
    entries = audit.entries()
    assert [e.reason for e in entries] == ["third", "second", "first"]
    assert [e.status for e in entries] == ["failed", "interrupted", "applied"]
    assert audit.entries(lock_holder=second)[1].status == "in progress"
    assert entries[2].forced and not entries[1].forced and "promote" in entries[1].gate
    assert audit.previous_baseline("1") is None
    audit.finish(second, ok=True)
    assert audit.previous_baseline("2") == "1"
    audit.annotate(second, "rollout.endpoint:e", '{"ok": true}')
    audit.annotate(second, "rollout.endpoint:e", '{"ok": false}')  # replaces the first note
    noted = audit.entries()[1]
    assert noted.status == "applied" and noted.notes == {"rollout.endpoint:e": '{"ok": false}'}
    assert noted.to_dict()["notes"] == {"rollout.endpoint:e": '{"ok": false}'}

"""What the Azure ML backend adds to the registry contract (tests/registry/test_contract.py
runs the shared tests on it): a lease that outlives its duration while renewed and lapses when
its holder is killed, a designation compare-and-set done by the storage service, the studio's
tags, settings and lazy imports. Blob storage is a real Azurite; the model registry the
in-memory stand-in of tests/azure_standins.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from emotion_clf.config import Settings
from emotion_clf.errors import ConfigError, DesignationConflictError, PromotionConflictError
from emotion_clf.registry import open_registry
from emotion_clf.registry.azureml.store import DESIGNATION_TAG, AzureMlRegistry
from tests.mlflow_fixtures import azureml_settings


@pytest.fixture
def settings(request: pytest.FixtureRequest, lifecycle_settings: Settings) -> Settings:
    return azureml_settings(request, lifecycle_settings, suffix=uuid.uuid4().hex[:8])


@pytest.fixture
def registry(settings: Settings) -> AzureMlRegistry:
    opened = open_registry(settings)
    assert isinstance(opened, AzureMlRegistry)
    return opened


def test_importing_the_registry_loads_no_azure_sdk() -> None:
    code = (
        "import sys, emotion_clf.registry, emotion_clf.promotion; "
        "print(sorted(m for m in sys.modules if m.startswith('azure')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_workspace_settings_are_named(lifecycle_settings: Settings) -> None:
    settings = lifecycle_settings.updated(registry="azureml", azure_subscription_id="x")
    with pytest.raises(ConfigError) as info:
        open_registry(settings)
    message = str(info.value)
    assert "EMOTION_CLF_AZURE_RESOURCE_GROUP" in message
    assert "EMOTION_CLF_AZURE_WORKSPACE" in message
    assert "SUBSCRIPTION" not in message


def test_versions_are_custom_models_tagged_for_the_studio(
    registry: AzureMlRegistry, tfidf_bundle: Path
) -> None:
    registry.register_bundle(tfidf_bundle)
    registry.register_bundle(tfidf_bundle)
    registry.set_designation("baseline", "1", expected=None)
    model = registry.models.get(name=registry.model_name, version="1")
    assert model.type == "custom_model" and model.path.startswith("azureml://")
    assert model.tags[DESIGNATION_TAG] == "baseline" and model.tags["family"] == "tfidf"
    assert registry.models.get(name=registry.model_name, version="2").tags[DESIGNATION_TAG] == (
        "dynamic"
    )
    registry.set_designation("baseline", "2", expected="1")  # the tag follows the move
    assert DESIGNATION_TAG not in registry.models.get(name=registry.model_name, version="1").tags
    assert (
        registry.models.get(name=registry.model_name, version="2").tags[DESIGNATION_TAG]
        == "baseline,dynamic"
    )


def test_the_designation_compare_and_set_is_done_by_the_storage_service(
    settings: Settings, registry: AzureMlRegistry, tfidf_bundle: Path
) -> None:
    for _ in range(3):
        registry.register_bundle(tfidf_bundle, designate=None)
    registry.set_designation("baseline", "1", expected=None)
    # many writers decide against v1 at once, each in its own registry object: one wins
    writers = [open_registry(settings) for _ in range(6)]
    barrier = threading.Barrier(len(writers))
    outcomes: list[str] = []

    def write(i: int) -> None:
        barrier.wait()
        try:
            writers[i].set_designation("baseline", str(2 + i % 2), expected="1")
        except DesignationConflictError:
            outcomes.append("refused")
        else:
            outcomes.append("won")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(writers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["refused"] * 5 + ["won"]
    assert registry.designations()["baseline"] in ("2", "3")
    # a concurrent change to another designation is not a conflict: it is merged
    registry.set_designation("dynamic", "3", expected=None)
    assert registry.designations()["dynamic"] == "3"


@pytest.mark.slow  # about 35 s: one lease renewed past its duration, then left to lapse
def test_the_lease_is_renewed_while_held_and_lapses_when_its_holder_is_killed(
    settings: Settings, registry: AzureMlRegistry
) -> None:
    """A real process takes the lock and is killed with SIGKILL: no release ever runs."""
    lease_s = settings.azureml.lock_lease_s  # 15 s, the shortest lease Azure grants
    holder = textwrap.dedent(
        f"""
        import time
        from azure.storage.blob import ContainerClient
        from emotion_clf.registry.azureml.lock import BlobLeaseLock, LeaseBlob
        container = ContainerClient.from_connection_string(
            {settings.azureml.registry_storage.get_secret_value()!r},
            container_name={settings.azureml.registry_container!r})
        blob = LeaseBlob(container.get_blob_client({registry.prefix + "promotion-lock"!r}))
        BlobLeaseLock(blob, ttl_s=600, holder="doomed", lease_s={lease_s}).acquire()
        print("held", flush=True)
        time.sleep(600)
        """
    )
    assert registry.lock_state() is None  # (creates the container on first use)
    process = subprocess.Popen(
        [sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True, env={**os.environ}
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "held"
        taken_at = time.monotonic()
        time.sleep(lease_s + 3)  # past one lease: only renewal keeps it
        with pytest.raises(PromotionConflictError, match="held by doomed pid"):
            registry.promotion_lock(ttl_s=600, holder="patient").acquire()
        assert time.monotonic() - taken_at > lease_s
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    killed_at = time.monotonic()
    state = registry.lock_state()
    assert state is not None and state.holder == "doomed"  # until the lease lapses
    while registry.lock_state() is not None:
        assert time.monotonic() - killed_at < lease_s + 5, "the lease did not lapse"
        time.sleep(0.5)
    with registry.promotion_lock(ttl_s=600, holder="next"):
        assert (registry.lock_state() or pytest.fail("not held")).holder == "next"
    assert registry.lock_state() is None and registry.break_lock() is False


@pytest.mark.parametrize("how", ["read_only", "create=False"])
def test_a_registry_that_may_not_create_refuses_a_missing_container(
    settings: Settings, how: str
) -> None:
    """The registry's own container (not the workspace datastore's, which always exists)
    is created only by a writer that may start a registry: for anything else it is lost."""
    from azure.storage.blob import ContainerClient

    from emotion_clf.errors import RegistryStoreError

    options = {"read_only": True} if how == "read_only" else {"create": False}
    container = settings.azureml.registry_container
    with pytest.raises(RegistryStoreError, match="blob container does not exist") as caught:
        open_registry(settings, **options).designations()
    assert container in str(caught.value) and container not in caught.value.public
    storage = settings.azureml.registry_storage
    assert storage is not None
    client = ContainerClient.from_connection_string(
        storage.get_secret_value(), container_name=container
    )
    assert not client.exists()

    writer = open_registry(settings)
    assert writer.designations() == {} and writer.created and client.exists()
    assert not open_registry(settings, create=False).created

"""Against a live Azure ML workspace: skipped (and counted as skipped) unless
EMOTION_CLF_AZURE_SUBSCRIPTION_ID, _RESOURCE_GROUP and _WORKSPACE are set and
DefaultAzureCredential can get a token. Nothing here was run on this project's machines."""

from __future__ import annotations

import os
import uuid

import pytest

from emotion_clf.config import Settings

pytestmark = pytest.mark.azure

NEEDED = (
    "EMOTION_CLF_AZURE_SUBSCRIPTION_ID",
    "EMOTION_CLF_AZURE_RESOURCE_GROUP",
    "EMOTION_CLF_AZURE_WORKSPACE",
)


@pytest.fixture(scope="module")
def live_settings() -> Settings:
    missing = [name for name in NEEDED if not os.environ.get(name)]
    if missing:
        pytest.skip(f"no Azure workspace: set {', '.join(missing)}")
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import DefaultAzureCredential

    try:
        DefaultAzureCredential(exclude_interactive_browser_credential=True).get_token(
            "https://management.azure.com/.default"
        )
    except ClientAuthenticationError as exc:
        pytest.skip(f"no working Azure credential (az login): {str(exc).splitlines()[0]}")
    # a model name of its own, so the test never touches the real registry's designations
    return Settings(registry="azureml", model_name=f"emotion-clf-test-{uuid.uuid4().hex[:6]}")


def test_the_workspace_registry_round_trip(live_settings: Settings, tfidf_bundle: object) -> None:
    from pathlib import Path

    from emotion_clf.registry import open_registry

    registry = open_registry(live_settings)
    info = registry.register_bundle(Path(str(tfidf_bundle)))
    assert registry.designations()["dynamic"] == info.version
    with registry.promotion_lock(ttl_s=600, holder="live-test"):
        assert (registry.lock_state() or pytest.fail("not held")).holder == "live-test"
    assert registry.lock_state() is None


def test_endpoint_status(live_settings: Settings) -> None:
    name = os.environ.get("EMOTION_CLF_AZUREML_TEST_ENDPOINT")
    if not name:
        pytest.skip("set EMOTION_CLF_AZUREML_TEST_ENDPOINT to an existing online endpoint")
    from emotion_clf.azure.ml.endpoint import endpoint_status
    from emotion_clf.azure.ml.workspace import ml_client

    status = endpoint_status(ml_client(live_settings), endpoint=name)
    assert status.scoring_uri

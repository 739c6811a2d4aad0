"""For the live tests (marker ``azure``): the Azure target, or a skip that says why."""

from __future__ import annotations

import pytest

from emotion_clf.azure.sdk import AzureTarget, azure_target, credential
from emotion_clf.config import Settings

MANAGEMENT_SCOPE = "https://management.azure.com/.default"


def live_target(settings: Settings) -> AzureTarget:
    """Skip (and so count as skipped) unless a subscription is set and a credential works."""
    if not settings.azure.subscription_id:
        pytest.skip("EMOTION_CLF_AZURE_SUBSCRIPTION_ID is unset")
    if not settings.azure.resource_group:
        pytest.skip("EMOTION_CLF_AZURE_RESOURCE_GROUP is unset")
    exceptions = pytest.importorskip("azure.core.exceptions")
    try:
        credential().get_token(MANAGEMENT_SCOPE)
    except exceptions.ClientAuthenticationError as exc:  # CredentialUnavailableError too
        pytest.skip(f"no Azure credential works: {str(exc).splitlines()[0]}")
    return azure_target(settings)

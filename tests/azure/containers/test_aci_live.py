"""Live, on a real subscription (marker ``azure``; skipped without one): a container group
deployed from EMOTION_CLF_CONTAINER_IMAGE, health-checked at its address, then deleted."""

from __future__ import annotations

import secrets

import pytest

from emotion_clf.azure.containers import aci
from emotion_clf.azure.containers.spec import check_deployed, container_spec
from emotion_clf.config import Settings
from tests.azure.containers.container_live import live_target

pytestmark = pytest.mark.azure


def test_a_group_deploys_answers_its_health_check_and_goes() -> None:
    settings = Settings()
    target = live_target(settings)
    if not settings.containers.image or not (
        settings.containers.tracking_uri or settings.registry.tracking_uri
    ):
        pytest.skip("set EMOTION_CLF_CONTAINER_IMAGE and a registry the container can reach")
    name = f"emotion-clf-test-{secrets.token_hex(3)}"
    spec = container_spec(settings)
    group = aci.build_container_group(
        spec, location=target.location, dns_label=name, reveal_secrets=True
    )
    client = aci.client(target)
    try:
        created = aci.deploy(client, resource_group=target.resource_group, name=name, group=group)
        url = aci.address(created, spec.port)
        assert url is not None
        token = (
            settings.promotion.refresh_token.get_secret_value()
            if settings.promotion.refresh_token
            else None
        )
        result = check_deployed(url, token=token, ready_timeout_s=600)
        assert result.passed, result.summary
        state = aci.status(client, resource_group=target.resource_group, name=name, port=spec.port)
        assert state.state == "Running" and state.address == url
    finally:
        aci.delete(client, resource_group=target.resource_group, name=name)

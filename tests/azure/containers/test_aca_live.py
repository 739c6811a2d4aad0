"""Live, on a real subscription (marker ``azure``; skipped without one): the configured
Container App read back, its colours understood, and the next deployment planned and built
against it (nothing is changed)."""

from __future__ import annotations

import pytest

from emotion_clf.azure.containers import aca, aca_live
from emotion_clf.azure.containers.spec import container_spec
from emotion_clf.config import Settings
from tests.azure.containers.container_live import live_target

pytestmark = pytest.mark.azure


def test_the_live_app_reads_and_plans() -> None:
    settings = Settings()
    target = live_target(settings)
    client = aca_live.client(target)
    state = aca_live.status(client, resource_group=target.resource_group, name=settings.aca.name)
    if state is None:
        pytest.skip(f"no Container App {settings.aca.name!r} in {target.resource_group}")
    assert state.fqdn and state.revisions
    if not settings.containers.image:
        pytest.skip("set EMOTION_CLF_CONTAINER_IMAGE to plan the next revision")
    latest = next((r.model for r in state.revisions if r.model and r.model.isdigit()), "1")
    spec = container_spec(settings, model=latest)
    plan = aca.plan_deploy(state.colours, app_name=settings.aca.name, suffix="v0-livetest")
    assert plan.colour != state.colours.serving
    app = aca.build_container_app(
        spec,
        plan=plan,
        location=target.location,
        environment=aca.environment_id(target, settings.aca.environment),
        min_replicas=1,
        max_replicas=1,
        concurrent_requests=10,
        reveal_secrets=False,
    )
    assert aca.load_app(app.as_dict()).as_dict() == app.as_dict()

"""Azure Container Apps, the calls: read the app, PUT a deployment, PATCH the traffic, list
revisions, and the rollout target (:class:`ContainerAppTarget`) that :func:`~.rollout.roll_out`
drives (``azure-mgmt-appcontainers``'s ``ContainerAppsAPIClient``).

The decisions live in :mod:`.aca` and :mod:`.rollout`; tests drive this module with a fake
client that records the real SDK objects it is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emotion_clf.azure.containers.aca import (
    Colours,
    label_fqdn,
    onto_live,
    read_colours,
    traffic_patch,
)
from emotion_clf.azure.containers.spec import DeployCheck, check_deployed
from emotion_clf.azure.sdk import AzureTarget, credential, require
from emotion_clf.errors import ConfigError

logger = logging.getLogger(__name__)


def client(target: AzureTarget) -> Any:
    sdk = require("azure.mgmt.appcontainers")
    return sdk.ContainerAppsAPIClient(credential(), target.subscription_id)


def read_app(aca: Any, *, resource_group: str, name: str) -> Any | None:
    """The app as Azure has it, or None if it does not exist yet."""
    not_found = require("azure.core.exceptions").ResourceNotFoundError
    try:
        return aca.container_apps.get(resource_group, name)
    except not_found:
        return None


def secret_values(aca: Any, *, resource_group: str, name: str) -> dict[str, str]:
    """The values of the app's plain secrets (a GET leaves them out; a PUT needs them)."""
    listed = aca.container_apps.list_secrets(resource_group, name)
    return {s.name: s.value for s in listed.value or [] if s.value is not None}


def deploy(aca: Any, *, resource_group: str, name: str, app: Any, live: Any | None) -> Any:
    """PUT the app (a new revision) and wait for Azure to finish provisioning it. An app
    that exists (``live``) keeps everything this tool does not own (:func:`.aca.onto_live`)."""
    if live is not None:
        values = secret_values(aca, resource_group=resource_group, name=name)
        app = onto_live(live, app, secret_values=values)
    logger.info("deploying container app %s in %s", name, resource_group)
    return aca.container_apps.begin_create_or_update(resource_group, name, app).result()


def app_fqdn(app: Any) -> str | None:
    ingress = app.configuration.ingress if app.configuration is not None else None
    return ingress.fqdn if ingress is not None else None


CheckUrl = Callable[[str], DeployCheck]


@dataclass
class ContainerAppTarget:
    """A :class:`~.rollout.TrafficTarget` on one Container App's blue and green labels.

    ``set_traffic`` PATCHes the ingress traffic; ``check`` runs the health check against the
    colour's own label address (``https://APP---COLOUR.DOMAIN``), not through the split.
    ``check_url`` defaults to :func:`~.containers.check_deployed` with the refresh token.
    """

    aca: Any
    resource_group: str
    name: str
    location: str
    colours: Colours
    fqdn: str
    check_url: CheckUrl
    checks: list[DeployCheck] = field(default_factory=list)

    def url(self, colour: str) -> str:
        return f"https://{label_fqdn(self.fqdn, self.name, colour)}"

    def set_traffic(self, weights: Mapping[str, int]) -> None:
        logger.info("%s traffic: %s", self.name, dict(weights))
        patch = traffic_patch(self.location, self.colours, weights)
        self.aca.container_apps.begin_update(self.resource_group, self.name, patch).result()

    def check(self, colour: str) -> tuple[bool, str]:
        result = self.check_url(self.url(colour))
        self.checks.append(result)
        return result.passed, result.summary


def target_for(
    aca: Any,
    *,
    resource_group: str,
    name: str,
    token: str | None,
    ready_timeout_s: float,
    check_url: CheckUrl | None = None,
) -> ContainerAppTarget:
    """The rollout target for the app as it is now (its labels, location and address)."""
    app = read_app(aca, resource_group=resource_group, name=name)
    if app is None:
        raise ConfigError(f"Container App {name!r} does not exist in {resource_group}")
    fqdn = app_fqdn(app)
    if not fqdn:
        raise ConfigError(f"Container App {name!r} has no ingress address")

    def default_check(url: str) -> DeployCheck:
        return check_deployed(url, token=token, ready_timeout_s=ready_timeout_s)

    return ContainerAppTarget(
        aca=aca,
        resource_group=resource_group,
        name=name,
        location=app.location,
        colours=read_colours(app),
        fqdn=fqdn,
        check_url=check_url or default_check,
    )


def created_times(aca: Any, *, resource_group: str, name: str, colours: Colours) -> dict[str, str]:
    """When each colour's revision was created (ISO), for the rollback's default."""
    times = {}
    for colour, revision in colours.revisions.items():
        created = aca.container_apps_revisions.get_revision(resource_group, name, revision)
        if created.properties is not None and created.properties.created_time is not None:
            times[colour] = created.properties.created_time.isoformat()
    return times


# -- status ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RevisionRow:
    name: str
    label: str | None
    weight: int
    active: bool | None
    model: str | None
    image: str | None
    replicas: int | None
    health: str | None
    running: str | None
    created: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class AcaStatus:
    name: str
    fqdn: str | None
    colours: Colours
    revisions: tuple[RevisionRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": f"https://{self.fqdn}" if self.fqdn else None,
            "serving": self.colours.serving,
            "labels": {
                c: {"revision": r, "weight": self.colours.weights.get(c, 0)}
                for c, r in self.colours.revisions.items()
            },
            "revisions": [r.to_dict() for r in self.revisions],
        }


def revision_row(revision: Any, colours: Colours) -> RevisionRow:
    """One revision Azure listed, with its colour label and the model version it pins."""
    props = revision.properties
    containers = props.template.containers if props and props.template else []
    container = containers[0] if containers else None
    env = (container.env or []) if container is not None else []
    model = next((e.value for e in env if e.name == "EMOTION_CLF_SERVE_MODEL"), None)
    label = next((c for c, r in colours.revisions.items() if r == revision.name), None)
    created = props.created_time.isoformat(timespec="seconds") if props.created_time else None
    return RevisionRow(
        name=revision.name,
        label=label,
        weight=int(props.traffic_weight or 0),
        active=props.active,
        model=model,
        image=container.image if container else None,
        replicas=props.replicas,
        health=str(props.health_state) if props.health_state else None,
        running=str(props.running_state) if props.running_state else None,
        created=created,
    )


def status(aca: Any, *, resource_group: str, name: str) -> AcaStatus | None:
    app = read_app(aca, resource_group=resource_group, name=name)
    if app is None:
        return None
    colours = read_colours(app)
    revisions = aca.container_apps_revisions.list_revisions(resource_group, name)
    rows = sorted(
        (revision_row(r, colours) for r in revisions),
        key=lambda row: row.created or "",
        reverse=True,
    )
    return AcaStatus(name=name, fqdn=app_fqdn(app), colours=colours, revisions=tuple(rows))

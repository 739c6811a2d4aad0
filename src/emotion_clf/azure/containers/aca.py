"""Azure Container Apps, blue-green with revisions: the objects and the decisions.

The app runs in multiple-revision mode behind HTTPS ingress. Each deployment is a new,
immutable revision (its suffix names the model version and a digest of what it runs), pinned
to one model version (``EMOTION_CLF_SERVE_MODEL``), and labelled with the colour not serving
(:func:`~.rollout.other_colour`) at weight 0, so it answers on its label's own address
(``https://APP---green.DOMAIN``) before any live traffic reaches it. ``aca promote`` then
shifts traffic to it in steps (:func:`~.rollout.roll_out`) and ``aca rollback`` moves it back.

Everything here is pure: it reads and builds the SDK's model objects (``ContainerApp``,
``Configuration``, ``TrafficWeight``, ...) and decides; :mod:`.aca_live` calls Azure.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emotion_clf.azure.containers.spec import ContainerSpec
from emotion_clf.azure.rollout import COLOURS, other_colour
from emotion_clf.azure.sdk import AzureTarget, require
from emotion_clf.errors import ConfigError

MODELS = "azure.mgmt.appcontainers.models"
CONTAINER = "api"
APP_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")


def check_app_name(name: str) -> str:
    """2-32 lower-case letters, digits and single hyphens, starting with a letter."""
    if not APP_NAME.match(name) or "--" in name:
        raise ConfigError(
            f"Container App name {name!r}: 2-32 lower-case letters, digits and single "
            "hyphens, starting with a letter and ending with a letter or digit"
        )
    return name


def environment_id(target: AzureTarget, environment: str | None) -> str:
    """The Container Apps environment's resource id, from a name or the id itself."""
    if not environment:
        raise ConfigError(
            "set EMOTION_CLF_ACA_ENVIRONMENT to the Container Apps environment "
            "(its name in the resource group, or its full resource id)"
        )
    if environment.startswith("/subscriptions/"):
        return environment
    return (
        f"/subscriptions/{target.subscription_id}/resourceGroups/{target.resource_group}"
        f"/providers/Microsoft.App/managedEnvironments/{environment}"
    )


def revision_suffix(spec: ContainerSpec) -> str:
    """``v<model>-<digest>``: the same image, model and settings give the same revision."""
    if not spec.model.isdigit():
        raise ConfigError(
            f"a Container Apps revision is pinned to one version; got {spec.model!r}: "
            "pass --version V"
        )
    content = {
        "image": spec.image,
        "cpu": spec.cpu,
        "memory_gb": spec.memory_gb,
        "port": spec.port,
        "env": dict(sorted(spec.env.items())),
        "secrets": sorted(spec.secret_names),
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:8]
    return f"v{spec.model}-{digest}"


def label_fqdn(app_fqdn: str, app_name: str, label: str) -> str:
    """``APP.DOMAIN`` -> ``APP---LABEL.DOMAIN``, the address of one labelled revision."""
    prefix = f"{app_name}."
    if not app_fqdn.startswith(prefix):
        raise ConfigError(f"ingress address {app_fqdn!r} does not start with {prefix!r}")
    return f"{app_name}---{label}.{app_fqdn[len(prefix) :]}"


# -- the traffic, read and planned ----------------------------------------------------------
@dataclass(frozen=True)
class Colours:
    """What the colour labels point at: revision and traffic weight per colour."""

    revisions: Mapping[str, str]
    weights: Mapping[str, int]

    @property
    def serving(self) -> str | None:
        """The colour with all the traffic; None when there is none yet."""
        full = [c for c, w in self.weights.items() if w == 100]
        return full[0] if full else None

    def describe(self) -> str:
        if not self.revisions:
            return "no colour labels yet"
        return ", ".join(
            f"{c} {self.weights.get(c, 0)}% ({self.revisions[c]})"
            for c in COLOURS
            if c in self.revisions
        )


def read_colours(app: Any | None) -> Colours:
    """The colour labels of an app Azure returned (None: the app does not exist yet).

    Refuses traffic that the labels do not account for (an unlabelled revision or the
    latest revision holding a weight): this tool shifts traffic between colours only.
    """
    traffic: list[Any] = []
    if app is not None and app.configuration is not None and app.configuration.ingress:
        traffic = app.configuration.ingress.traffic or []
    revisions: dict[str, str] = {}
    weights: dict[str, int] = {}
    for entry in traffic:
        weight = int(entry.weight or 0)
        if entry.label in COLOURS and entry.revision_name:
            revisions[entry.label] = entry.revision_name
            weights[entry.label] = weight
        elif weight:
            what = entry.revision_name or ("the latest revision" if entry.latest_revision else "?")
            raise ConfigError(
                f"{weight}% of the traffic goes to {what} without a blue or green label; "
                "label it (az containerapp revision label add) or move its traffic first"
            )
    return Colours(revisions, weights)


@dataclass(frozen=True)
class DeployPlan:
    """Where a new revision goes: its colour and the traffic the deployment sets."""

    revision: str
    colour: str
    serving: str | None  # the colour serving now (None: first deployment)
    traffic: tuple[tuple[str, str, int], ...]  # (label, revision, weight)

    @property
    def message(self) -> str:
        if self.serving is None:
            return f"first revision {self.revision} as {self.colour}, serving 100%"
        return (
            f"new revision {self.revision} as {self.colour} at 0%; "
            f"{self.serving} keeps 100% until `emotion-clf azure aca promote`"
        )


def plan_deploy(colours: Colours, *, app_name: str, suffix: str) -> DeployPlan:
    """The new revision takes the colour not serving, at weight 0 (100 if it is the first)."""
    revision = f"{app_name}--{suffix}"
    if colours.revisions and colours.serving is None:
        raise ConfigError(
            f"traffic is split ({colours.describe()}): finish it with "
            "`emotion-clf azure aca promote` or `aca rollback` before deploying again"
        )
    serving = colours.serving
    if serving is not None and colours.revisions[serving] == revision:
        raise ConfigError(f"{revision} already serves as {serving}: nothing to deploy")
    colour = other_colour(serving)
    if serving is None:
        return DeployPlan(revision, colour, None, ((colour, revision, 100),))
    traffic = ((serving, colours.revisions[serving], 100), (colour, revision, 0))
    return DeployPlan(revision, colour, serving, traffic)


def plan_promotion(colours: Colours, *, to: str | None = None) -> tuple[str, str]:
    """(old, new): shift traffic from ``old`` to ``new`` (default: the colour at 0%)."""
    if len(colours.revisions) < 2:
        raise ConfigError(f"nothing to promote ({colours.describe()}): deploy a new revision first")
    if to is None:
        low = min(COLOURS, key=lambda c: colours.weights.get(c, 0))
        if colours.weights.get(low, 0) == colours.weights.get(other_colour(low), 0):
            raise ConfigError(f"traffic is split evenly ({colours.describe()}): pass --to")
        to = low
    other_colour(to)  # refuses an unknown colour
    if colours.weights.get(to, 0) == 100:
        raise ConfigError(f"{to} already serves 100% ({colours.describe()})")
    return other_colour(to), to


def plan_rollback(
    colours: Colours, *, to: str | None = None, created: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """(to, other): every request back to ``to``.

    By default ``to`` is the colour of the older revision (``created``: ISO times per
    colour), so a second rollback does not send traffic back to the newer one; without the
    times, the colour with less traffic.
    """
    if len(colours.revisions) < 2:
        raise ConfigError(f"no other revision to roll back to ({colours.describe()})")
    if to is None and created and all(c in created for c in colours.revisions):
        to = min(colours.revisions, key=lambda c: created[c])
        if colours.weights.get(to, 0) == 100:
            raise ConfigError(
                f"{to}, the older revision, already serves 100% ({colours.describe()}): "
                "nothing to roll back; pass --to to move traffic anyway"
            )
    if to is None:
        to = min(COLOURS, key=lambda c: colours.weights.get(c, 0))
        if colours.weights.get(to, 0) == colours.weights.get(other_colour(to), 0):
            raise ConfigError(f"traffic is split evenly ({colours.describe()}): pass --to")
    other_colour(to)
    if colours.weights.get(to, 0) == 100:
        raise ConfigError(f"{to} already serves 100% ({colours.describe()})")
    return to, other_colour(to)


# -- the SDK objects -------------------------------------------------------------------------
def traffic_weights(m: Any, traffic: Sequence[tuple[str, str, int]]) -> list[Any]:
    return [m.TrafficWeight(revision_name=r, label=label, weight=w) for label, r, w in traffic]


def build_container_app(
    spec: ContainerSpec,
    *,
    plan: DeployPlan,
    location: str,
    environment: str,
    min_replicas: int,
    max_replicas: int,
    concurrent_requests: int,
    reveal_secrets: bool,
) -> Any:
    """The ``ContainerApp`` a deployment PUTs: multiple-revision mode, HTTPS ingress with
    the planned traffic, secrets, scale rule, and the new revision's template."""
    if not 0 <= min_replicas <= max_replicas or max_replicas < 1:
        raise ConfigError(f"replicas: need 0 <= min ({min_replicas}) <= max ({max_replicas})")
    m = require(MODELS)
    secrets = [m.Secret(name=s.name, value=s.content(reveal=reveal_secrets)) for s in spec.secrets]
    registries = None
    login = spec.registry
    if login is not None and login.identity is not None:  # AcrPull for the app's identity
        registries = [m.RegistryCredentials(server=login.server, identity=login.identity)]
    elif login is not None and login.password is not None:  # a registry outside Azure
        secrets.append(
            m.Secret(name=login.password.name, value=login.password.content(reveal=reveal_secrets))
        )
        registries = [
            m.RegistryCredentials(
                server=login.server,
                username=login.username,
                password_secret_ref=login.password.name,
            )
        ]
    env = [m.EnvironmentVar(name=k, value=v) for k, v in spec.env.items()]
    env += [m.EnvironmentVar(name=s.env, secret_ref=s.name) for s in spec.secrets]

    def probe(kind: str, path: str, **timing: int) -> Any:
        http_get = m.ContainerAppProbeHttpGet(path=path, port=spec.port, scheme="HTTP")
        return m.ContainerAppProbe(type=kind, http_get=http_get, **timing)

    # start-up fetches and verifies the model: the startup probe allows up to 5 minutes
    probes = [
        probe("Startup", "/health", period_seconds=10, failure_threshold=30, timeout_seconds=5),
        probe("Liveness", "/health", period_seconds=30, failure_threshold=3, timeout_seconds=5),
        probe("Readiness", "/ready", period_seconds=10, failure_threshold=3, timeout_seconds=5),
    ]
    container = m.Container(
        name=CONTAINER,
        image=spec.image,
        env=env,
        resources=m.ContainerResources(cpu=spec.cpu, memory=f"{spec.memory_gb:g}Gi"),
        probes=probes,
    )
    scale = m.Scale(
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        rules=[
            m.ScaleRule(
                name="http-concurrency",
                http=m.HttpScaleRule(metadata={"concurrentRequests": str(concurrent_requests)}),
            )
        ],
    )
    configuration = m.Configuration(
        active_revisions_mode="Multiple",
        ingress=m.Ingress(
            external=True,
            target_port=spec.port,
            transport="auto",
            allow_insecure=False,  # HTTPS only: plain HTTP is redirected
            traffic=traffic_weights(m, plan.traffic),
        ),
        secrets=secrets,
        registries=registries,
        max_inactive_revisions=10,
    )
    suffix = plan.revision.split("--", 1)[1]
    return m.ContainerApp(
        location=location,
        tags={"app": "emotion-clf"},
        identity=app_identity(m, spec),
        managed_environment_id=environment,
        configuration=configuration,
        template=m.Template(revision_suffix=suffix, containers=[container], scale=scale),
    )


def app_identity(m: Any, spec: ContainerSpec) -> Any | None:
    """The app's managed identity: the system one, or a user-assigned one."""
    if spec.identity is None:
        return None
    if spec.user_assigned is None:
        return m.ManagedServiceIdentity(type="SystemAssigned")
    return m.ManagedServiceIdentity(
        type="UserAssigned", user_assigned_identities={spec.user_assigned: m.UserAssignedIdentity()}
    )


def onto_live(live: Any, built: Any, *, secret_values: Mapping[str, str]) -> Any:
    """The PUT body for an app that exists: the live app as Azure returned it, with only
    what a deployment owns replaced (the new revision's template, the ingress traffic, this
    tool's secrets and registry login) and its identity added. Everything configured outside
    this tool stays: custom domains, IP rules, CORS, sticky sessions, Dapr, other secrets
    (``secret_values``: their values, which a GET does not return), other registries, other
    identities, tags.
    """
    m = require(MODELS)
    app = m.ContainerApp(live.as_dict())
    app.template = built.template
    conf, ours = app.configuration, built.configuration
    conf.active_revisions_mode = "Multiple"
    conf.ingress.traffic = ours.ingress.traffic
    mine = {s.name for s in ours.secrets or []}
    kept = []
    for secret in conf.secrets or []:
        if secret.name in mine:
            continue
        if secret.key_vault_url is None:  # a plain secret: send its value back
            secret.value = secret_values.get(secret.name)
        kept.append(secret)
    conf.secrets = kept + list(ours.secrets or [])
    servers = {r.server for r in ours.registries or []}
    conf.registries = [r for r in conf.registries or [] if r.server not in servers] + list(
        ours.registries or []
    ) or None
    app.identity = merged_identity(m, app.identity, built.identity)
    app.tags = {**(app.tags or {}), **(built.tags or {})}
    return app


def merged_identity(m: Any, live: Any | None, ours: Any | None) -> Any | None:
    """The live identities plus ours (system and user-assigned may coexist)."""
    if ours is None or live is None:
        return ours if live is None else live
    kinds = {
        k.strip()
        for i in (live, ours)
        for k in str(getattr(i.type, "value", i.type) or "None").split(",")
        if k.strip() != "None"
    }
    users = {**(live.user_assigned_identities or {}), **(ours.user_assigned_identities or {})}
    kind = ",".join(k for k in ("SystemAssigned", "UserAssigned") if k in kinds) or "None"
    return m.ManagedServiceIdentity(type=kind, user_assigned_identities=users or None)


def traffic_patch(location: str, colours: Colours, weights: Mapping[str, int]) -> Any:
    """The PATCH body that sets ``weights`` (per colour) on the labelled revisions."""
    if sum(weights.values()) != 100:
        raise ConfigError(f"traffic weights {dict(weights)} do not add up to 100")
    missing = [c for c in weights if c not in colours.revisions]
    if missing:
        raise ConfigError(f"no revision is labelled {', '.join(missing)}")
    m = require(MODELS)
    traffic = [(c, colours.revisions[c], weights.get(c, 0)) for c in COLOURS if c in weights]
    # keep a labelled revision that gets no weight here (its label still answers)
    traffic += [(c, r, 0) for c, r in colours.revisions.items() if c not in weights]
    return m.ContainerApp(
        location=location,
        configuration=m.Configuration(ingress=m.Ingress(traffic=traffic_weights(m, traffic))),
    )


def load_app(body: Mapping[str, Any]) -> Any:
    """A dry run's body back as a ``ContainerApp`` (the 5.x SDK builds models from a
    mapping; it has no ``from_dict``)."""
    return require(MODELS).ContainerApp(dict(body))

"""Managed online endpoints, blue-green the Azure way.

An endpoint has up to two deployments, ``blue`` and ``green`` (one per colour), each serving
one registry version through :mod:`emotion_clf.azure.ml.score`. :func:`deploy` creates the
endpoint if missing, creates the deployment of the colour not serving with the version at 0%
traffic, optionally mirrors a share of live traffic to it, then hands over to
:func:`emotion_clf.azure.rollout.roll_out`: a smoke test through the deployment-targeting
header, traffic in steps with :func:`check_scoring` between them, all traffic back to the
old colour on the first failure. The old deployment is deleted afterwards unless kept.

:class:`EndpointTarget` is the rollout's view of one endpoint (``set_traffic`` / ``check``);
:class:`EndpointRollout` lets ``promote`` drive a deployment after the baseline moves.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emotion_clf.azure.ml.assets import environment, environment_ref, stage_entry_code
from emotion_clf.azure.ml.smoke import check_scoring
from emotion_clf.azure.ml.workspace import Plan, azure_call
from emotion_clf.azure.rollout import (
    COLOURS,
    RolloutResult,
    other_colour,
    parse_steps,
    roll_back,
    roll_out,
)
from emotion_clf.azure.sdk import require
from emotion_clf.config import Settings
from emotion_clf.errors import ConfigError, ModelNotFoundError

logger = logging.getLogger(__name__)

Checker = Callable[[str, str], tuple[bool, str]]  # (colour, version) -> (passed, detail)


def model_ref(model_name: str, version: str) -> str:
    return f"azureml:{model_name}:{version}"


def version_of(model: Any) -> str | None:
    """The registry version a deployment serves: ``azureml:<name>:<v>`` or an ARM id
    ending ``/versions/<v>``."""
    text = str(getattr(model, "id", None) or model or "")
    for separator in ("/versions/", ":"):
        if separator in text:
            tail = text.rsplit(separator, 1)[1]
            return tail if tail.isdigit() else None
    return None


def build_endpoint(name: str) -> Any:
    entities = require("azure.ai.ml.entities")
    return entities.ManagedOnlineEndpoint(
        name=name,
        auth_mode="key",
        description="emotion-clf: blue-green deployments of registry versions",
        tags={"project": "emotion-clf"},
    )


def build_deployment(
    *, endpoint: str, colour: str, version: str, settings: Settings, code: Path
) -> Any:
    """The deployment of ``version`` in ``colour``, at 0% until the rollout gives it traffic."""
    if colour not in COLOURS:
        raise ConfigError(f"unknown colour {colour!r}; colours are {', '.join(COLOURS)}")
    entities = require("azure.ai.ml.entities")
    return entities.ManagedOnlineDeployment(
        name=colour,
        endpoint_name=endpoint,
        model=model_ref(settings.registry.model_name, version),
        code_configuration=entities.CodeConfiguration(
            code=str(code.resolve()), scoring_script="score.py"
        ),
        environment=environment_ref("score", name=settings.azureml.environment),
        instance_type=settings.azureml.instance_type,
        instance_count=settings.azureml.instance_count,
        environment_variables={
            "EMOTION_CLF_MODEL_VERSION": version,
            "EMOTION_CLF_BATCH_LIMIT": str(settings.serving.batch_limit),
            "EMOTION_CLF_MAX_TEXT_CHARS": str(settings.serving.max_text_chars),
        },
        tags={"emotion_clf.version": version},
    )


def plan_deploy(*, settings: Settings, endpoint: str, version: str, colour: str, out: Path) -> Plan:
    """What :func:`deploy` creates, for ``--dry-run``: the scoring environment, the endpoint
    and the deployment of ``version`` in ``colour``."""
    plan = Plan()
    plan.add(
        "environment-score.yml", environment("score", name=settings.azureml.environment, out=out)
    )
    plan.add("online-endpoint.yml", build_endpoint(endpoint))
    code = stage_entry_code("score", out)
    plan.add(
        f"online-deployment-{colour}.yml",
        build_deployment(
            endpoint=endpoint, colour=colour, version=version, settings=settings, code=code
        ),
    )
    return plan


def serving_colour(traffic: Mapping[str, int]) -> str | None:
    """The colour with the most live traffic, or None when nothing serves yet."""
    live = {c: int(w) for c, w in (traffic or {}).items() if c in COLOURS and int(w) > 0}
    return max(live, key=lambda c: live[c]) if live else None


class EndpointTarget:
    """One endpoint as :func:`roll_out` sees it: traffic weights and a per-colour check."""

    def __init__(self, ml_client: Any, endpoint: str, *, check: Checker, versions: dict[str, str]):
        self.ml = ml_client
        self.endpoint = endpoint
        self._check = check
        self.versions = versions  # colour -> the version it should serve

    def set_traffic(self, weights: Mapping[str, int]) -> None:
        entity = self.ml.online_endpoints.get(name=self.endpoint)
        entity.traffic = {c: int(w) for c, w in weights.items()}
        entity.mirror_traffic = {}  # a deployment cannot take live and mirrored traffic at once
        self.ml.online_endpoints.begin_create_or_update(entity).result()
        logger.info("endpoint %s traffic: %s", self.endpoint, entity.traffic)

    def mirror(self, colour: str, percent: int) -> None:
        entity = self.ml.online_endpoints.get(name=self.endpoint)
        entity.mirror_traffic = {colour: percent} if percent else {}
        self.ml.online_endpoints.begin_create_or_update(entity).result()

    def check(self, colour: str) -> tuple[bool, str]:
        return self._check(colour, self.versions.get(colour, ""))


def scoring_checker(ml_client: Any, endpoint: str) -> Checker:
    """The live check: :func:`check_scoring` on the endpoint's scoring URI, with its key."""

    def check(colour: str, version: str) -> tuple[bool, str]:
        entity = ml_client.online_endpoints.get(name=endpoint)
        keys = ml_client.online_endpoints.get_keys(name=endpoint)
        report = check_scoring(
            entity.scoring_uri,
            key=getattr(keys, "primary_key", None) or getattr(keys, "access_token", None),
            deployment=colour,
            version=version or None,
        )
        failed = ", ".join(f"{r.name}: {r.detail}" for r in report.failures)
        return report.passed, failed or f"{len(report.results)} scenarios passed"

    return check


@dataclass
class DeployResult:
    endpoint: str
    version: str
    colour: str
    rollout: RolloutResult
    deleted: str | None = None
    mirrored: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.rollout.ok

    @property
    def message(self) -> str:
        text = f"endpoint {self.endpoint}: v{self.version} on {self.colour}: {self.rollout.message}"
        return text + (f"; deleted {self.deleted}" if self.deleted else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "version": self.version,
            "colour": self.colour,
            "ok": self.ok,
            "message": self.message,
            "deleted": self.deleted,
            "mirrored": self.mirrored,
            "rollout": self.rollout.to_dict(),
        }


def deploy(
    ml_client: Any,
    *,
    endpoint: str,
    version: str,
    settings: Settings,
    code_root: Path,
    steps: Sequence[int] | str,
    mirror_percent: int = 0,
    mirror_seconds: float = 0.0,
    keep_old: bool = False,
    check: Checker | None = None,
) -> DeployResult:
    """Deploy ``version`` to the idle colour of ``endpoint`` and shift traffic to it."""
    exceptions = require("azure.core.exceptions")
    steps = parse_steps(steps)
    ml_client.environments.create_or_update(
        environment("score", name=settings.azureml.environment, out=code_root)
    )
    if not 0 <= mirror_percent <= 50:
        raise ConfigError(f"--mirror {mirror_percent}: Azure mirrors 0 to 50 percent")
    try:
        current = ml_client.online_endpoints.get(name=endpoint)
    except exceptions.ResourceNotFoundError:
        logger.info("creating endpoint %s", endpoint)
        current = ml_client.online_endpoints.begin_create_or_update(
            build_endpoint(endpoint)
        ).result()
    old = serving_colour(current.traffic)
    new = other_colour(old)
    versions = {
        d.name: version_of(d.model) or "" for d in ml_client.online_deployments.list(endpoint)
    }
    deployment = build_deployment(
        endpoint=endpoint,
        colour=new,
        version=version,
        settings=settings,
        code=stage_entry_code("score", code_root),
    )
    ml_client.online_deployments.begin_create_or_update(deployment).result()
    versions[new] = version
    target = EndpointTarget(
        ml_client, endpoint, check=check or scoring_checker(ml_client, endpoint), versions=versions
    )
    mirrored: dict[str, Any] = {}
    if mirror_percent and old is not None:
        target.mirror(new, mirror_percent)  # a copy of live requests; answers are discarded
        time.sleep(mirror_seconds)
        passed, detail = target.check(new)
        mirrored = {"percent": mirror_percent, "seconds": mirror_seconds, "passed": passed}
        target.mirror(new, 0)
        if not passed:
            logger.warning("%s failed its check under mirrored traffic: %s", new, detail)
    result = roll_out(target, old=old, new=new, steps=steps)
    if mirrored and not mirrored["passed"] and result.ok:
        logger.warning("the mirrored-traffic check failed but every traffic step passed")
    deleted = None
    if result.ok and old is not None and not keep_old:
        ml_client.online_deployments.begin_delete(name=old, endpoint_name=endpoint).result()
        deleted = old
    return DeployResult(endpoint, version, new, result, deleted=deleted, mirrored=mirrored)


def rollback_endpoint(ml_client: Any, *, endpoint: str) -> dict[str, int]:
    """All traffic back to the other colour at once (its deployment must still exist)."""
    current = ml_client.online_endpoints.get(name=endpoint)
    serving = serving_colour(current.traffic)
    names = {d.name for d in ml_client.online_deployments.list(endpoint)}
    back = other_colour(serving)
    if serving is None or back not in names:
        raise ModelNotFoundError(
            f"endpoint {endpoint} has no {back} deployment to roll back to (it was deleted "
            "after the last rollout); deploy the version you want with "
            "`emotion-clf azure endpoint deploy --version V`"
        )
    target = EndpointTarget(ml_client, endpoint, check=lambda c, v: (True, ""), versions={})
    return dict(roll_back(target, to=back, other=serving))


@dataclass(frozen=True)
class EndpointStatus:
    endpoint: str
    scoring_uri: str | None
    traffic: dict[str, int]
    mirror_traffic: dict[str, int]
    deployments: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "scoring_uri": self.scoring_uri,
            "traffic": self.traffic,
            "mirror_traffic": self.mirror_traffic,
            "deployments": self.deployments,
        }


def endpoint_status(ml_client: Any, *, endpoint: str) -> EndpointStatus:
    entity = ml_client.online_endpoints.get(name=endpoint)
    deployments = [
        {
            "name": d.name,
            "version": version_of(d.model),
            "traffic": int((entity.traffic or {}).get(d.name, 0)),
            "instance_type": d.instance_type,
            "instance_count": d.instance_count,
            "state": getattr(d, "provisioning_state", None),
        }
        for d in ml_client.online_deployments.list(endpoint)
    ]
    return EndpointStatus(
        endpoint=endpoint,
        scoring_uri=getattr(entity, "scoring_uri", None),
        traffic={k: int(v) for k, v in (entity.traffic or {}).items()},
        mirror_traffic={k: int(v) for k, v in (entity.mirror_traffic or {}).items()},
        deployments=sorted(deployments, key=lambda d: str(d["name"])),
    )


@dataclass
class EndpointRollout:
    """``promote --endpoint NAME``: after the baseline moves, deploy it to the endpoint
    (:class:`emotion_clf.promotion.Rollout`)."""

    ml_client: Any
    endpoint: str
    settings: Settings
    code_root: Path
    steps: Sequence[int] | str
    keep_old: bool = False

    @property
    def name(self) -> str:
        return f"endpoint:{self.endpoint}"

    def roll_out(self, version: str) -> DeployResult:
        with azure_call(f"deploying v{version} to endpoint {self.endpoint}"):
            return deploy(
                self.ml_client,
                endpoint=self.endpoint,
                version=version,
                settings=self.settings,
                code_root=self.code_root,
                steps=self.steps,
                keep_old=self.keep_old,
            )

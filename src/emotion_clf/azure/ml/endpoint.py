"""Managed online endpoints, blue-green the Azure way.

An endpoint has up to two deployments, ``blue`` and ``green`` (one per colour), each serving
one registry version through :mod:`emotion_clf.azure.ml.score`. :func:`deploy` creates the
endpoint if missing, refuses to start from a split (or first moves all traffic to the colour
with the most, with ``normalise``), creates the deployment of the colour not serving with the
version at 0% traffic, then hands over to :func:`emotion_clf.azure.rollout.roll_out`: a smoke
test through the deployment-targeting header, optionally a share of live traffic mirrored to
it, traffic in steps with :func:`check_scoring` between them, all traffic back to the old
colour on any failure, Azure's errors included. The old deployment is deleted afterwards
unless kept; a failed delete is a warning, since the new colour already serves everything.

:mod:`.online` builds the entities, :mod:`.endpoint_target` is the rollout's view of one
endpoint; :class:`EndpointRollout` lets ``promote`` drive a deployment after the baseline
moves.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emotion_clf.azure.ml.assets import environment, stage_entry_code
from emotion_clf.azure.ml.autoscale import Autoscaler
from emotion_clf.azure.ml.endpoint_target import (
    Checker,
    EndpointTarget,
    scoring_checker,
    serving_colour,
)
from emotion_clf.azure.ml.metrics import EndpointMetrics, MetricPolicy, production_check
from emotion_clf.azure.ml.online import build_deployment, build_endpoint, version_of
from emotion_clf.azure.ml.workspace import azure_call
from emotion_clf.azure.rollout import (
    Mirror,
    Pacing,
    RolloutResult,
    error_text,
    other_colour,
    parse_steps,
    roll_back,
    roll_out,
    split_problem,
)
from emotion_clf.azure.sdk import require
from emotion_clf.config import Settings
from emotion_clf.errors import CloudError, ConfigError, ModelNotFoundError

logger = logging.getLogger(__name__)


@dataclass
class DeployResult:
    endpoint: str
    version: str
    colour: str
    rollout: RolloutResult
    versions: dict[str, str] = field(default_factory=dict)  # colour -> the version it serves
    deleted: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.rollout.ok

    @property
    def serving_version(self) -> str | None:
        """The version that serves all of the endpoint's traffic now (None: unknown)."""
        colour = self.rollout.serving
        return self.versions.get(colour) or None if colour else None

    @property
    def message(self) -> str:
        text = f"endpoint {self.endpoint}: v{self.version} on {self.colour}: {self.rollout.message}"
        if not self.ok and self.rollout.settled and self.rollout.serving:
            text += (
                f". The endpoint serves v{self.serving_version or '?'} ({self.rollout.serving}, "
                f"100%), not v{self.version}"
            )
        text += f"; deleted {self.deleted}" if self.deleted else ""
        return text + "".join(f"; warning: {w}" for w in self.warnings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "version": self.version,
            "colour": self.colour,
            "ok": self.ok,
            "settled": self.rollout.settled,
            "serving_version": self.serving_version,
            "message": self.message,
            "deleted": self.deleted,
            "warnings": self.warnings,
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
    normalise: bool = False,
    check: Checker | None = None,
    pacing: Pacing | None = None,
    metrics: EndpointMetrics | None = None,
    autoscaler: Autoscaler | None = None,
) -> DeployResult:
    """Deploy ``version`` to the idle colour of ``endpoint`` and shift traffic to it.

    Whatever fails, the endpoint ends with all live traffic on one colour (see
    :mod:`emotion_clf.azure.rollout`); an error before any traffic moved is raised as a
    :class:`CloudError` that says so.
    """
    exceptions = require("azure.core.exceptions")
    aml = settings.azureml
    steps = parse_steps(steps)
    if not 0 <= mirror_percent <= 50:
        raise ConfigError(f"--mirror {mirror_percent}: Azure mirrors 0 to 50 percent")
    pacing = pacing or Pacing(hold_s=settings.azureml.traffic_hold_s)
    ml_client.environments.create_or_update(
        environment("score", name=settings.azureml.environment, out=code_root)
    )
    try:
        current = ml_client.online_endpoints.get(name=endpoint)
    except exceptions.ResourceNotFoundError:
        logger.info("creating endpoint %s", endpoint)
        current = ml_client.online_endpoints.begin_create_or_update(
            build_endpoint(endpoint, auth_mode=settings.azureml.endpoint_auth)
        ).result()
    versions = {
        d.name: version_of(d.model) or "" for d in ml_client.online_deployments.list(endpoint)
    }
    target = EndpointTarget(
        ml_client, endpoint, check=check or scoring_checker(ml_client, endpoint), versions=versions
    )
    old = _start_from_one_colour(target, current, normalise=normalise)
    new = other_colour(old)
    if metrics is None and aml.metric_gate and pacing.hold_s > 0 and old is not None:
        metrics = EndpointMetrics(current.id, current.location)
    if metrics is not None:
        target.production = production_check(
            metrics,
            old=old,
            share=target.share,
            window_s=max(pacing.hold_s, mirror_seconds),
            policy=MetricPolicy(
                min_requests=aml.metric_min_requests,
                max_error_rate=aml.metric_max_5xx,
                max_error_rate_gain=aml.metric_max_5xx_gain,
                max_p99_ratio=aml.metric_max_p99_ratio,
            ),
            clock=lambda: datetime.now(UTC),
        )
    deployment = build_deployment(
        endpoint=endpoint,
        colour=new,
        version=version,
        settings=settings,
        code=stage_entry_code("score", code_root),
    )
    try:
        ml_client.online_deployments.begin_create_or_update(deployment).result()
    except Exception as exc:
        unchanged = f"{old} (v{versions.get(old, '?')}) serves 100%" if old else "none yet"
        raise CloudError(
            f"creating the {new} deployment of v{version}: {error_text(exc)}; live traffic "
            f"unchanged: {unchanged}"
        ) from exc
    versions[new] = version
    mirror = Mirror(mirror_percent, mirror_seconds) if mirror_percent else None
    result = roll_out(target, old=old, new=new, steps=steps, pacing=pacing, mirror=mirror)
    deployed = DeployResult(endpoint, version, new, result, versions=dict(versions))
    if result.ok and autoscaler is not None:  # the setting follows the colour that serves
        try:
            serving = ml_client.online_deployments.get(name=new, endpoint_name=endpoint)
            autoscaler.follow(endpoint, serving.id, current.location)
        except Exception as exc:
            deployed.warnings.append(
                f"autoscale still points at the old colour: {error_text(exc)}; "
                "rerun the deploy or point it at the new deployment in the portal"
            )
            logger.warning(deployed.warnings[-1])
    if result.ok and old is not None and not keep_old:
        try:
            ml_client.online_deployments.begin_delete(name=old, endpoint_name=endpoint).result()
            deployed.deleted = old
        except Exception as exc:
            deployed.warnings.append(
                f"deleting the old {old} deployment (0% traffic) failed: {error_text(exc)}; "
                f"see `emotion-clf azure endpoint status --endpoint {endpoint}` and delete it "
                f"with `az ml online-deployment delete -e {endpoint} -n {old}` if it is there"
            )
            logger.warning(deployed.warnings[-1])
    return deployed


def _start_from_one_colour(target: EndpointTarget, current: Any, *, normalise: bool) -> str | None:
    """The colour serving all live traffic (None: none yet). A split or a mirror is refused,
    or with ``normalise`` first ended by moving all traffic to the colour with the most."""
    problem = split_problem(current.traffic, getattr(current, "mirror_traffic", None))
    serving = serving_colour(current.traffic)
    if problem is None:
        return serving
    if not normalise:
        raise ConfigError(
            f"endpoint {target.endpoint}: {problem}; a rollout starts from one colour at 100%. "
            "Finish or undo the last one (`emotion-clf azure endpoint rollback`), or pass "
            f"--normalise to move all traffic to {serving or 'its colour'} first"
        )
    if serving is None:  # only a mirror, no live traffic: end the mirror
        target.mirror(other_colour(None), 0)
        return None
    logger.warning(
        "endpoint %s: %s; moving all traffic to %s first", target.endpoint, problem, serving
    )
    target.set_traffic({serving: 100, other_colour(serving): 0})
    return serving


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
    mirror_percent: int = 0
    mirror_seconds: float = 60.0
    normalise: bool = False
    autoscaler: Autoscaler | None = None

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
                mirror_percent=self.mirror_percent,
                mirror_seconds=self.mirror_seconds,
                normalise=self.normalise,
                autoscaler=self.autoscaler,
            )

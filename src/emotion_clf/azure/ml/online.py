"""The SDK entities of a managed online endpoint and its deployments, built from settings.

:func:`build_endpoint` and :func:`build_deployment` make the ``ManagedOnlineEndpoint`` and
``ManagedOnlineDeployment`` a rollout creates (and a ``--dry-run`` writes as YAML,
:func:`plan_deploy`): the version's model and ``score.py`` in the ``score`` environment, the
deployment's own instance type and count, request settings and probes sized for the project
(not Azure's 5 s and one request per instance), ``WORKER_COUNT``, the data collector that
sends its traffic to drift monitoring, and Application Insights by setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emotion_clf.azure.ml.assets import environment, environment_ref, stage_entry_code
from emotion_clf.azure.ml.workspace import Plan
from emotion_clf.azure.rollout import COLOURS
from emotion_clf.azure.sdk import require
from emotion_clf.config import Settings
from emotion_clf.errors import ConfigError
from emotion_clf.monitoring.collected import INPUTS, OUTPUTS


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


def build_endpoint(name: str, *, auth_mode: str = "key") -> Any:
    entities = require("azure.ai.ml.entities")
    return entities.ManagedOnlineEndpoint(
        name=name,
        auth_mode=auth_mode,
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
    aml = settings.azureml
    return entities.ManagedOnlineDeployment(
        name=colour,
        endpoint_name=endpoint,
        model=model_ref(settings.registry.model_name, version),
        code_configuration=entities.CodeConfiguration(
            code=str(code.resolve()), scoring_script="score.py"
        ),
        environment=environment_ref("score", name=settings.azureml.environment),
        instance_type=aml.online_instance_type or aml.instance_type,
        instance_count=aml.online_instance_count or aml.instance_count,
        environment_variables={
            "EMOTION_CLF_MODEL_VERSION": version,
            "EMOTION_CLF_BATCH_LIMIT": str(settings.serving.batch_limit),
            "EMOTION_CLF_MAX_TEXT_CHARS": str(settings.serving.max_text_chars),
            "WORKER_COUNT": str(aml.online_workers),  # the inference server's processes
        },
        request_settings=entities.OnlineRequestSettings(
            request_timeout_ms=int(aml.online_request_timeout_s * 1000),
            max_concurrent_requests_per_instance=aml.online_max_concurrent,
            max_queue_wait_ms=int(aml.online_max_queue_wait_s * 1000),
        ),
        # the model loads in init(): liveness waits for it; readiness keeps traffic away
        # until the server answers
        liveness_probe=entities.ProbeSettings(
            initial_delay=aml.online_startup_s, period=10, timeout=5, failure_threshold=6
        ),
        readiness_probe=entities.ProbeSettings(
            initial_delay=10, period=10, timeout=5, failure_threshold=3, success_threshold=1
        ),
        data_collector=traffic_collection(entities, settings) if aml.collect_data else None,
        app_insights_enabled=aml.app_insights,
        tags={"emotion_clf.version": version},
    )


def traffic_collection(entities: Any, settings: Settings) -> Any:
    """Azure ML's data collector on the deployment: the two collections ``score.py`` sends
    (:mod:`emotion_clf.monitoring.collected`), stored hourly in the workspace's blob store."""
    on = entities.DeploymentCollection(enabled="true")
    return entities.DataCollector(
        collections={INPUTS: on, OUTPUTS: on},
        sampling_rate=settings.azureml.collect_sampling,
        rolling_rate="Hour",
    )


def plan_deploy(*, settings: Settings, endpoint: str, version: str, colour: str, out: Path) -> Plan:
    """What :func:`deploy` creates, for ``--dry-run``: the scoring environment, the endpoint
    and the deployment of ``version`` in ``colour``."""
    plan = Plan()
    plan.add(
        "environment-score.yml", environment("score", name=settings.azureml.environment, out=out)
    )
    plan.add(
        "online-endpoint.yml", build_endpoint(endpoint, auth_mode=settings.azureml.endpoint_auth)
    )
    code = stage_entry_code("score", out)
    plan.add(
        f"online-deployment-{colour}.yml",
        build_deployment(
            endpoint=endpoint, colour=colour, version=version, settings=settings, code=code
        ),
    )
    return plan

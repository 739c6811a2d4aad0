"""The batch endpoint: the project's batch inference over files in a datastore, on a cluster.

A batch endpoint holds one model deployment per registry version (``emotion-clf-v<N>``,
:func:`build_deployment`) whose entry script is :mod:`emotion_clf.azure.ml.batch_score`:
Azure ML splits the input folder into mini-batches of files across the cluster's nodes; each
file comes out as its own CSV / JSONL / Parquet in the job's output folder, in the format
``emotion-clf predict --output`` writes.

A new version goes in as Azure's examples do it: :func:`deploy` adds its deployment beside
the one serving, invokes it *by name* on a test folder and waits for the job, and only when
that job completes makes it the endpoint's default; the old deployment stays, so
:func:`rollback` makes it the default again. :func:`score` starts a job on a ``uri_folder``
(``azureml://datastores/.../paths/...``, an ``https://`` blob folder, or a data asset
``azureml:name:version``); :func:`wait` follows it to the end and :func:`download` fetches
its outputs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from emotion_clf.azure.ml.assets import environment, environment_ref, stage_entry_code
from emotion_clf.azure.ml.batch_score import FORMATS
from emotion_clf.azure.ml.online import model_ref
from emotion_clf.azure.ml.workspace import Plan
from emotion_clf.azure.sdk import require
from emotion_clf.config import Settings
from emotion_clf.errors import ConfigError, ModelNotFoundError

DEPLOYMENT_PREFIX = "emotion-clf-v"
DONE = frozenset({"Completed", "Failed", "Canceled", "NotResponding"})


def deployment_name(version: str) -> str:
    """The deployment of one registry version: ``emotion-clf-v<N>``."""
    return f"{DEPLOYMENT_PREFIX}{version}"


def deployment_version(name: str) -> int | None:
    tail = name[len(DEPLOYMENT_PREFIX) :] if name.startswith(DEPLOYMENT_PREFIX) else ""
    return int(tail) if tail.isdigit() else None


def check_format(output_format: str) -> None:
    if output_format not in FORMATS:
        raise ConfigError(f"--format {output_format!r}; formats: {', '.join(FORMATS)}")


def build_endpoint(name: str) -> Any:
    entities = require("azure.ai.ml.entities")
    return entities.BatchEndpoint(
        name=name, description="emotion-clf batch inference over files in a datastore"
    )


def build_deployment(
    *,
    endpoint: str,
    version: str,
    settings: Settings,
    code: Path,
    compute: str,
    mini_batch_size: int = 10,
    output_format: str = "csv",
) -> Any:
    check_format(output_format)
    entities = require("azure.ai.ml.entities")
    constants = require("azure.ai.ml.constants")
    return entities.ModelBatchDeployment(
        name=deployment_name(version),
        endpoint_name=endpoint,
        model=model_ref(settings.registry.model_name, version),
        code_configuration=entities.CodeConfiguration(
            code=str(code.resolve()), scoring_script="batch_score.py"
        ),
        environment=environment_ref("job", name=settings.azureml.environment),
        compute=compute,
        resources=entities.ResourceConfiguration(instance_count=settings.azureml.instance_count),
        settings=entities.ModelBatchDeploymentSettings(
            max_concurrency_per_instance=2,
            mini_batch_size=mini_batch_size,
            output_action=constants.BatchDeploymentOutputAction.SUMMARY_ONLY,
            retry_settings=entities.BatchRetrySettings(max_retries=2, timeout=900),
            logging_level="info",
            environment_variables={
                "EMOTION_CLF_BATCH_OUTPUT_FORMAT": output_format,
                "EMOTION_CLF_MODEL_VERSION": version,
            },
        ),
        tags={"emotion_clf.version": version},
    )


def plan_deploy(
    *,
    settings: Settings,
    endpoint: str,
    version: str,
    compute: str,
    out: Path,
    mini_batch_size: int = 10,
    output_format: str = "csv",
) -> Plan:
    check_format(output_format)  # before anything is staged
    plan = Plan()
    plan.add("environment-job.yml", environment("job", name=settings.azureml.environment, out=out))
    plan.add("batch-endpoint.yml", build_endpoint(endpoint))
    plan.add(
        "batch-deployment.yml",
        build_deployment(
            endpoint=endpoint,
            version=version,
            settings=settings,
            code=stage_entry_code("batch", out),
            compute=compute,
            mini_batch_size=mini_batch_size,
            output_format=output_format,
        ),
    )
    return plan


@dataclass(frozen=True)
class BatchDeployResult:
    endpoint: str
    deployment: str
    default: str | None  # the endpoint's default deployment at the end
    previous: str | None  # the default before
    test_job: str | None = None
    test_status: str | None = None

    @property
    def ok(self) -> bool:
        return self.default == self.deployment

    @property
    def message(self) -> str:
        tested = f"test job {self.test_job}: {self.test_status}; " if self.test_job else ""
        if self.ok:
            kept = f"; {self.previous} kept for `batch rollback`" if self.previous else ""
            return f"{tested}{self.deployment} is the default of {self.endpoint}{kept}"
        return (
            f"{tested}{self.deployment} was added but is not the default; "
            f"{self.default or 'no deployment'} still is"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "message": self.message}


def deploy(
    ml_client: Any,
    plan: Plan,
    *,
    test_input: str | None,
    poll_s: float = 15.0,
    timeout_s: float = 3600.0,
    sleep: Callable[[float], None] = time.sleep,
) -> BatchDeployResult:
    """Environment, endpoint, the version's deployment beside the serving one; then, with
    ``test_input``, a job invoked on that deployment by name, and only when it completes is
    the new deployment made the default (without a test input it is made the default at
    once, which the CLI says)."""
    ml_client.environments.create_or_update(plan.entities["environment-job.yml"])
    endpoint = ml_client.batch_endpoints.begin_create_or_update(
        plan.entities["batch-endpoint.yml"]
    ).result()
    previous = default_of(endpoint)
    deployment = ml_client.batch_deployments.begin_create_or_update(
        plan.entities["batch-deployment.yml"]
    ).result()
    result = BatchDeployResult(endpoint.name, deployment.name, previous, previous)
    if test_input is not None:
        job = score(
            ml_client, endpoint=endpoint.name, input_uri=test_input, deployment=deployment.name
        )
        status = wait(ml_client, job.name, poll_s=poll_s, timeout_s=timeout_s, sleep=sleep)
        result = BatchDeployResult(
            endpoint.name, deployment.name, previous, previous, job.name, status
        )
        if status != "Completed":
            return result
    return BatchDeployResult(
        endpoint.name,
        deployment.name,
        set_default(ml_client, endpoint.name, deployment.name),
        previous if previous != deployment.name else None,
        result.test_job,
        result.test_status,
    )


def default_of(endpoint: Any) -> str | None:
    """The endpoint's default deployment (``defaults`` is a dict on a new entity, the REST
    model on one Azure returned)."""
    defaults = endpoint.defaults
    if isinstance(defaults, dict):
        return defaults.get("deployment_name")
    return getattr(defaults, "deployment_name", None) if defaults is not None else None


def set_default(ml_client: Any, endpoint: str, deployment: str) -> str:
    entity = ml_client.batch_endpoints.get(name=endpoint)
    if entity.defaults is None or isinstance(entity.defaults, dict):
        entity.defaults = {**(entity.defaults or {}), "deployment_name": deployment}
    else:
        entity.defaults.deployment_name = deployment
    ml_client.batch_endpoints.begin_create_or_update(entity).result()
    return deployment


def rollback(ml_client: Any, *, endpoint: str) -> tuple[str, str]:
    """The endpoint's default back to the newest deployment of a version older than the
    default's: ``(from, to)``."""
    current = default_of(ml_client.batch_endpoints.get(name=endpoint))
    now = deployment_version(current or "")
    older = sorted(
        (v, d.name)
        for d in ml_client.batch_deployments.list(endpoint_name=endpoint)
        if (v := deployment_version(d.name)) is not None and (now is None or v < now)
    )
    if not older:
        raise ModelNotFoundError(
            f"batch endpoint {endpoint} has no deployment of an older version than "
            f"{current or 'its default'} to go back to"
        )
    back = older[-1][1]
    return current or "-", set_default(ml_client, endpoint, back)


def score(ml_client: Any, *, endpoint: str, input_uri: str, deployment: str | None = None) -> Any:
    """Start a batch job over the files under ``input_uri`` (on ``deployment``, else the
    endpoint's default); returns the job."""
    ml = require("azure.ai.ml")
    extra = {"deployment_name": deployment} if deployment else {}
    return ml_client.batch_endpoints.invoke(
        endpoint_name=endpoint,
        inputs={"input": ml.Input(type="uri_folder", path=input_uri)},
        **extra,
    )


def wait(
    ml_client: Any,
    job: str,
    *,
    poll_s: float = 15.0,
    timeout_s: float = 3600.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Poll a job until it ends (or ``timeout_s``); its last status."""
    waited = 0.0
    while True:
        status = str(ml_client.jobs.get(job).status)
        if status in DONE or waited >= timeout_s:
            return status
        sleep(poll_s)
        waited += poll_s


def download(ml_client: Any, job: str, folder: Path) -> Path:
    """The job's outputs (the per-file predictions) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ml_client.jobs.download(name=job, download_path=str(folder), output_name="score")
    return folder

"""The batch endpoint: the project's batch inference over files in a datastore, on a cluster.

A batch endpoint with one model deployment (:func:`build_deployment`) whose entry script is
:mod:`emotion_clf.azure.ml.batch_score`: Azure ML splits the input folder into mini-batches of
files across the cluster's nodes; each file comes out as its own CSV / JSONL / Parquet in the
job's output folder, in the format ``emotion-clf predict --output`` writes.
:func:`score` starts a job on a ``uri_folder`` (``azureml://datastores/.../paths/...``,
an ``https://`` blob folder, or a data asset ``azureml:name:version``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emotion_clf.azure.ml.assets import environment, environment_ref, stage_entry_code
from emotion_clf.azure.ml.batch_score import FORMATS
from emotion_clf.azure.ml.online import model_ref
from emotion_clf.azure.ml.workspace import Plan
from emotion_clf.azure.sdk import require
from emotion_clf.config import Settings
from emotion_clf.errors import ConfigError

DEPLOYMENT = "emotion-clf"


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
        name=DEPLOYMENT,
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


def deploy(ml_client: Any, plan: Plan) -> Any:
    """Environment, endpoint, deployment (made the endpoint's default), in that order."""
    ml_client.environments.create_or_update(plan.entities["environment-job.yml"])
    endpoint = ml_client.batch_endpoints.begin_create_or_update(
        plan.entities["batch-endpoint.yml"]
    ).result()
    deployment = ml_client.batch_deployments.begin_create_or_update(
        plan.entities["batch-deployment.yml"]
    ).result()
    endpoint.defaults.deployment_name = deployment.name
    return ml_client.batch_endpoints.begin_create_or_update(endpoint).result()


def score(ml_client: Any, *, endpoint: str, input_uri: str) -> Any:
    """Start a batch job over the files under ``input_uri``; returns the job."""
    ml = require("azure.ai.ml")
    return ml_client.batch_endpoints.invoke(
        endpoint_name=endpoint,
        inputs={"input": ml.Input(type="uri_folder", path=input_uri)},
    )

"""The training pipeline on a compute cluster: prepare data -> train -> evaluate -> register.

Each step is a command component running the same ``emotion-clf`` command a notebook or a
user runs locally (:data:`STEP_COMMANDS`; a test runs each on a slice of the data), in the
``job`` environment. The last step registers the bundle in the workspace registry
(``EMOTION_CLF_REGISTRY=azureml``) and moves ``dynamic`` to it; the compute cluster needs a
managed identity allowed to do that (a user-assigned one is named by its client id).

Two ways to run it, which differ in what they read and what Azure may reuse:

- :func:`plan_submission` (``pipeline submit``): one run on the data asset version the
  submission uploads; prepare, train and evaluate may be reused by a later submission of the
  same version (same inputs, same outputs), register never is.
- :func:`plan_schedule` (``pipeline schedule``): a cron schedule, created disabled, over the
  *landing folder* of a datastore where new labelled batches arrive. A folder path is the
  same at every trigger while its contents change, so no step is reusable, and register
  skips a bundle trained on the same data as a version already registered (its output says
  so): a trigger with nothing new registers nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emotion_clf.azure.ml.assets import data_asset, environment, environment_ref
from emotion_clf.azure.ml.workspace import Plan
from emotion_clf.azure.sdk import AzureTarget, require
from emotion_clf.config import Settings
from emotion_clf.errors import ConfigError
from emotion_clf.models import FAMILIES

# step -> (command, inputs, outputs); ${{inputs.x}} / ${{outputs.y}} are Azure ML's bindings
STEP_COMMANDS: Mapping[str, str] = {
    "prepare": "emotion-clf data prepare --data ${{inputs.raw}} --out ${{outputs.data}}",
    "train": (
        "emotion-clf train --family ${{inputs.family}} --data ${{inputs.data}} "
        "--seed ${{inputs.seed}} --out ${{outputs.bundle}}"
    ),
    "evaluate": (
        "emotion-clf evaluate --model ${{inputs.bundle}} --data ${{inputs.data}} --split test "
        "--json > ${{outputs.report}}/evaluation.json"
    ),
    # registers only after evaluate wrote its report (the report input orders the steps);
    # a bundle trained on data some version was already trained on is not registered again
    "register": (
        "test -s ${{inputs.report}}/evaluation.json && "
        "emotion-clf registry register ${{inputs.bundle}} --designate dynamic --skip-same-data"
    ),
}


@dataclass(frozen=True)
class PipelineSpec:
    family: str
    seed: int
    compute: str
    data: Path
    experiment: str = "emotion-clf-training"


def check_family(family: str) -> None:
    if family not in FAMILIES:
        raise ConfigError(f"unknown family {family!r}; families: {', '.join(FAMILIES)}")


def landing_uri(settings: Settings) -> str:
    """The datastore folder where new labelled batches land."""
    path = settings.azureml.landing_path.strip("/")
    return f"azureml://datastores/{settings.azureml.landing_datastore}/paths/{path}/"


def _components(
    settings: Settings, target: AzureTarget | None, *, reusable: bool
) -> dict[str, Any]:
    """The four steps; ``reusable`` lets Azure reuse prepare/train/evaluate runs whose inputs
    are identical (true of a pinned data asset version, never of a folder that fills up)."""
    ml = require("azure.ai.ml")
    env = environment_ref("job", name=settings.azureml.environment)
    folder, string, integer = "uri_folder", "string", "integer"
    registry_env = {
        "EMOTION_CLF_REGISTRY": "azureml",
        "EMOTION_CLF_MODEL_NAME": settings.registry.model_name,
        "EMOTION_CLF_AZUREML_REGISTRY_PREFIX": settings.azureml.registry_prefix,
    }
    if target is not None:  # where the register step finds the workspace (no secrets)
        registry_env.update(
            EMOTION_CLF_AZURE_SUBSCRIPTION_ID=target.subscription_id,
            EMOTION_CLF_AZURE_RESOURCE_GROUP=target.resource_group,
            EMOTION_CLF_AZURE_WORKSPACE=str(target.workspace),
        )
    if settings.azureml.identity_client_id:  # a user-assigned identity on the cluster
        registry_env.update(
            AZURE_CLIENT_ID=settings.azureml.identity_client_id,  # DefaultAzureCredential
            DEFAULT_IDENTITY_CLIENT_ID=settings.azureml.identity_client_id,  # Azure ML's own
        )
    specs = {
        "prepare": ({"raw": folder}, {"data": folder}, {}),
        "train": ({"data": folder, "family": string, "seed": integer}, {"bundle": folder}, {}),
        "evaluate": ({"bundle": folder, "data": folder}, {"report": folder}, {}),
        "register": ({"bundle": folder, "report": folder}, {}, registry_env),
    }
    components = {}
    for step, (inputs, outputs, variables) in specs.items():
        components[step] = ml.command(
            name=f"emotion_clf_{step}",
            display_name=f"emotion-clf {step}",
            command=STEP_COMMANDS[step],
            inputs={k: ml.Input(type=v) for k, v in inputs.items()},
            outputs={k: ml.Output(type=v) for k, v in outputs.items()},
            environment=env,
            environment_variables=dict(variables) or None,
            is_deterministic=reusable and step != "register",
        )
    return components


def build_pipeline(
    spec: PipelineSpec,
    *,
    settings: Settings,
    target: AzureTarget | None,
    data_ref: str,
    reusable: bool = True,
) -> Any:
    """The pipeline job: four steps on ``spec.compute``, reading ``data_ref``."""
    check_family(spec.family)
    ml = require("azure.ai.ml")
    dsl = require("azure.ai.ml.dsl")
    steps = _components(settings, target, reusable=reusable)

    @dsl.pipeline(
        name="emotion_clf_training",
        description="prepare data -> train -> evaluate -> register as dynamic",
        default_compute=spec.compute,
    )
    def emotion_clf_training(raw, family, seed):  # type: ignore[no-untyped-def]
        # no annotations: the SDK reads them as input types. Steps are named after variables
        prepare = steps["prepare"](raw=raw)
        train = steps["train"](data=prepare.outputs.data, family=family, seed=seed)
        evaluate = steps["evaluate"](bundle=train.outputs.bundle, data=prepare.outputs.data)
        register = steps["register"](bundle=train.outputs.bundle, report=evaluate.outputs.report)  # noqa: F841
        return {"bundle": train.outputs.bundle, "report": evaluate.outputs.report}

    job = emotion_clf_training(
        raw=ml.Input(type="uri_folder", path=data_ref), family=spec.family, seed=spec.seed
    )
    job.experiment_name = spec.experiment
    return job


def plan_submission(
    spec: PipelineSpec, *, settings: Settings, target: AzureTarget | None, out: Path
) -> Plan:
    """Environment, data asset and pipeline job, in the order they are created."""
    check_family(spec.family)  # before anything is staged
    plan = Plan()
    plan.add("environment-job.yml", environment("job", name=settings.azureml.environment, out=out))
    data = plan.add("data.yml", data_asset(name=settings.azureml.data_asset, source=spec.data))
    plan.add(
        "pipeline.yml",
        build_pipeline(
            spec, settings=settings, target=target, data_ref=f"azureml:{data.name}:{data.version}"
        ),
    )
    return plan


def plan_schedule(
    spec: PipelineSpec,
    *,
    settings: Settings,
    target: AzureTarget | None,
    out: Path,
    name: str,
    cron: str,
) -> Plan:
    """Environment, the pipeline over the landing folder, and its schedule (created
    disabled). Nothing is uploaded: batches land in the folder by other means."""
    check_family(spec.family)
    plan = Plan()
    plan.add("environment-job.yml", environment("job", name=settings.azureml.environment, out=out))
    job = plan.add(
        "pipeline.yml",
        build_pipeline(
            spec, settings=settings, target=target, data_ref=landing_uri(settings), reusable=False
        ),
    )
    plan.add("schedule.yml", schedule(job, name=name, cron=cron), create_job="./pipeline.yml")
    return plan


def schedule(job: Any, *, name: str, cron: str, time_zone: str = "UTC") -> Any:
    """A recurring schedule of ``job``, created disabled (enable it in the studio or with
    ``az ml schedule enable``)."""
    entities = require("azure.ai.ml.entities")
    return entities.JobSchedule(
        name=name,
        trigger=entities.CronTrigger(expression=cron, time_zone=time_zone),
        create_job=job,
        is_enabled=False,
        description="emotion-clf training pipeline on a schedule (created disabled)",
    )


def submit(ml_client: Any, plan: Plan) -> Any:
    """Create the environment and data asset, then submit the pipeline; returns the job."""
    ml_client.environments.create_or_update(plan.entities["environment-job.yml"])
    ml_client.data.create_or_update(plan.entities["data.yml"])
    return ml_client.jobs.create_or_update(plan.entities["pipeline.yml"])


def create_schedule(ml_client: Any, plan: Plan) -> Any:
    """Create the environment, then the schedule, and make sure it is off."""
    ml_client.environments.create_or_update(plan.entities["environment-job.yml"])
    entity = plan.entities["schedule.yml"]
    created = ml_client.schedules.begin_create_or_update(entity).result()
    if getattr(created, "is_enabled", False):
        created = ml_client.schedules.begin_disable(name=entity.name).result()
    return created

"""The training pipeline on a compute cluster: prepare data -> train -> evaluate -> register.

Each step is a command component running the same ``emotion-clf`` command a notebook or a
user runs locally (:data:`STEP_COMMANDS`; a test runs each on a slice of the data), in the
``job`` environment, on the data asset version the submission uploads. The last step
registers the bundle in the workspace registry (``EMOTION_CLF_REGISTRY=azureml``) and moves
``dynamic`` to it; the compute cluster needs a managed identity allowed to do that (README).
:func:`schedule` wraps the same pipeline in a cron schedule, created disabled.
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
    # registers only after evaluate wrote its report (the report input orders the steps)
    "register": (
        "test -s ${{inputs.report}}/evaluation.json && "
        "emotion-clf registry register ${{inputs.bundle}} --designate dynamic"
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


def _components(settings: Settings, target: AzureTarget | None) -> dict[str, Any]:
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
        )
    return components


def build_pipeline(
    spec: PipelineSpec, *, settings: Settings, target: AzureTarget | None, data_ref: str
) -> Any:
    """The pipeline job: four steps on ``spec.compute``, reading ``data_ref``."""
    check_family(spec.family)
    ml = require("azure.ai.ml")
    dsl = require("azure.ai.ml.dsl")
    steps = _components(settings, target)

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


def create_schedule(ml_client: Any, plan: Plan, entity: Any) -> Any:
    """Create the environment and data asset, then the schedule, and make sure it is off."""
    ml_client.environments.create_or_update(plan.entities["environment-job.yml"])
    ml_client.data.create_or_update(plan.entities["data.yml"])
    created = ml_client.schedules.begin_create_or_update(entity).result()
    if getattr(created, "is_enabled", False):
        created = ml_client.schedules.begin_disable(name=entity.name).result()
    return created

"""``emotion-clf azure pipeline | endpoint | batch | monitor``: Azure ML from the command line.

Every command builds the SDK's entities first; ``--dry-run`` writes them as YAML under
``--out`` (the SDK's loaders read them back) and calls nothing, so it needs neither
credentials nor a workspace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from emotion_clf.azure.ml.workspace import Plan, azure_call, ml_client
from emotion_clf.azure.rollout import other_colour
from emotion_clf.azure.sdk import AzureTarget
from emotion_clf.cli.azure_batch import batch_app
from emotion_clf.cli.azure_ml_common import (
    DryRun,
    EndpointOption,
    JsonOption,
    OutOption,
    VersionOption,
    chosen_version,
    out_folder,
    staging,
    target_or_none,
    written,
)
from emotion_clf.cli.azure_monitor import monitor_app
from emotion_clf.cli.output import MARKUP, console, info, print_json
from emotion_clf.config import Settings, get_settings

pipeline_app = typer.Typer(
    rich_markup_mode=MARKUP,
    help="The training pipeline on a compute cluster.",
    no_args_is_help=True,
)
endpoint_app = typer.Typer(
    rich_markup_mode=MARKUP,
    help="Managed online endpoints, blue-green (deployments blue and green).",
    no_args_is_help=True,
)


# -- pipeline -------------------------------------------------------------------------------
def _pipeline_plan(
    settings: Settings,
    *,
    family: str,
    seed: int,
    compute: str | None,
    data: Path | None,
    target: AzureTarget | None,
    out: Path,
) -> Plan:
    from emotion_clf.azure.ml.pipeline import PipelineSpec, plan_submission

    spec = PipelineSpec(
        family=family,
        seed=seed,
        compute=compute or settings.azureml.compute,
        data=data or settings.raw_data_dir,
    )
    return plan_submission(spec, settings=settings, target=target, out=out)


@pipeline_app.command("submit")
def pipeline_submit(
    family: Annotated[str, typer.Option(help="Model family.")] = "tfidf",
    seed: Annotated[int, typer.Option(help="Training seed.")] = 0,
    compute: Annotated[
        str | None, typer.Option(help="Compute cluster (default: EMOTION_CLF_AZUREML_COMPUTE).")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Labelled batches to upload (default: data/raw).")
    ] = None,
    dry_run: DryRun = False,
    out: OutOption = None,
    json_output: JsonOption = False,
) -> None:
    """Upload the data as a versioned asset and run prepare -> train -> evaluate -> register."""
    from emotion_clf.azure.ml.pipeline import submit

    settings = get_settings()
    target = target_or_none(settings, dry_run)
    folder = out_folder(settings, out, "pipeline") if dry_run else staging(settings)
    plan = _pipeline_plan(
        settings, family=family, seed=seed, compute=compute, data=data, target=target, out=folder
    )
    if dry_run:
        written(plan, folder, json_output)
        return
    with azure_call("submitting the pipeline"):
        job = submit(ml_client(settings), plan)
    if json_output:
        print_json({"job": job.name, "status": job.status, "studio_url": job.studio_url})
        return
    info(f"submitted pipeline job {job.name} ({job.status}): {job.studio_url}")


@pipeline_app.command("schedule")
def pipeline_schedule(
    cron: Annotated[str, typer.Option(help='Cron expression, UTC (e.g. "0 3 * * 1").')],
    name: Annotated[str, typer.Option(help="Schedule name.")] = "emotion-clf-training",
    family: Annotated[str, typer.Option(help="Model family.")] = "tfidf",
    seed: Annotated[int, typer.Option(help="Training seed.")] = 0,
    compute: Annotated[str | None, typer.Option(help="Compute cluster.")] = None,
    dry_run: DryRun = False,
    out: OutOption = None,
    json_output: JsonOption = False,
) -> None:
    """A recurring run of the training pipeline on the landing folder
    (EMOTION_CLF_AZUREML_LANDING_*), created disabled; a run with no new data registers
    nothing."""
    from emotion_clf.azure.ml.pipeline import (
        PipelineSpec,
        create_schedule,
        landing_uri,
        plan_schedule,
    )

    settings = get_settings()
    target = target_or_none(settings, dry_run)
    folder = out_folder(settings, out, "pipeline") if dry_run else staging(settings)
    spec = PipelineSpec(
        family=family,
        seed=seed,
        compute=compute or settings.azureml.compute,
        data=settings.raw_data_dir,
    )
    plan = plan_schedule(spec, settings=settings, target=target, out=folder, name=name, cron=cron)
    if dry_run:
        written(plan, folder, json_output)
        return
    with azure_call(f"creating schedule {name}"):
        created = create_schedule(ml_client(settings), plan)
    state = "enabled" if created.is_enabled else "disabled"
    if json_output:
        print_json(
            {
                "schedule": created.name,
                "cron": cron,
                "enabled": created.is_enabled,
                "reads": landing_uri(settings),
            }
        )
        return
    info(
        f"schedule {created.name} ({cron}) created, {state}; each run trains on "
        f"{landing_uri(settings)}. Enable it with `az ml schedule enable`"
    )


# -- endpoint -------------------------------------------------------------------------------
@endpoint_app.command("deploy")
def endpoint_deploy(
    endpoint: EndpointOption,
    version: VersionOption = None,
    steps: Annotated[
        str | None,
        typer.Option(help="Traffic steps in percent (default: EMOTION_CLF_AZUREML_TRAFFIC_STEPS)."),
    ] = None,
    mirror: Annotated[
        int, typer.Option(help="Mirror this percent of live traffic to the new colour first.")
    ] = 0,
    mirror_seconds: Annotated[float, typer.Option(help="How long to mirror.")] = 60.0,
    keep_old: Annotated[
        bool, typer.Option("--keep-old", help="Keep the old colour's deployment (for rollback).")
    ] = False,
    normalise: Annotated[
        bool,
        typer.Option(
            "--normalise",
            help="If traffic is split (or mirrored), first move it all to the colour with the "
            "most; without it a split endpoint is refused.",
        ),
    ] = False,
    colour: Annotated[
        str | None, typer.Option(help="[dry run] the colour to write (default: green).")
    ] = None,
    dry_run: DryRun = False,
    out: OutOption = None,
    json_output: JsonOption = False,
) -> None:
    """Deploy a version to the idle colour at 0%, smoke-test it, shift traffic in steps
    with a check after each; any failure (a check, an Azure error) puts all traffic back."""
    from emotion_clf.azure.ml.autoscale import autoscaler_for
    from emotion_clf.azure.ml.endpoint import deploy
    from emotion_clf.azure.ml.online import plan_deploy

    settings = get_settings()
    chosen = chosen_version(settings, version, dry_run)
    if dry_run:
        folder = out_folder(settings, out, "endpoint")
        plan = plan_deploy(
            settings=settings,
            endpoint=endpoint,
            version=chosen,
            colour=colour or other_colour(None),
            out=folder,
        )
        written(plan, folder, json_output)
        return
    with azure_call(f"deploying v{chosen} to endpoint {endpoint}"):
        result = deploy(
            ml_client(settings),
            autoscaler=autoscaler_for(settings),
            endpoint=endpoint,
            version=chosen,
            settings=settings,
            code_root=staging(settings),
            steps=steps or settings.azureml.traffic_steps,
            mirror_percent=mirror,
            mirror_seconds=mirror_seconds,
            keep_old=keep_old,
            normalise=normalise,
        )
    if json_output:
        print_json(result.to_dict())
    else:
        _show_steps(result.rollout.to_dict())
        console.print(result.message, highlight=False)
    if not result.ok:
        raise typer.Exit(1)


def _show_steps(rollout: dict[str, Any]) -> None:
    table = Table(title="traffic steps", title_justify="left")
    for column in ("traffic", "check", "detail"):
        table.add_column(column, overflow="fold")
    for step in rollout["steps"]:
        weights = ", ".join(f"{c} {w}%" for c, w in step["weights"].items())
        table.add_row(
            weights, "[green]pass[/]" if step["passed"] else "[red]FAIL[/]", step["detail"]
        )
    console.print(table)


@endpoint_app.command("rollback")
def endpoint_rollback(endpoint: EndpointOption, json_output: JsonOption = False) -> None:
    """All traffic back to the other colour at once (kept with --keep-old)."""
    from emotion_clf.azure.ml.endpoint import rollback_endpoint

    with azure_call(f"rolling endpoint {endpoint} back"):
        weights = rollback_endpoint(ml_client(get_settings()), endpoint=endpoint)
    if json_output:
        print_json({"endpoint": endpoint, "traffic": weights})
        return
    info(f"endpoint {endpoint} traffic: " + ", ".join(f"{c} {w}%" for c, w in weights.items()))


@endpoint_app.command("status")
def endpoint_status_command(endpoint: EndpointOption, json_output: JsonOption = False) -> None:
    """Traffic, mirrored traffic, deployments and the versions they serve."""
    from emotion_clf.azure.ml.endpoint import endpoint_status

    with azure_call(f"reading endpoint {endpoint}"):
        status = endpoint_status(ml_client(get_settings()), endpoint=endpoint)
    if json_output:
        print_json(status.to_dict())
        return
    table = Table(title=f"endpoint {endpoint}: {status.scoring_uri}", title_justify="left")
    for column in ("deployment", "version", "traffic", "instances", "state"):
        table.add_column(column)
    for d in status.deployments:
        table.add_row(
            str(d["name"]),
            f"v{d['version']}" if d["version"] else "?",
            f"{d['traffic']}%",
            f"{d['instance_count']} x {d['instance_type']}",
            str(d["state"] or "-"),
        )
    console.print(table)
    if status.mirror_traffic:
        console.print(f"mirrored: {status.mirror_traffic}")


# -- batch ----------------------------------------------------------------------------------
def register(app: typer.Typer) -> None:
    """Add the Azure ML groups to ``emotion-clf azure``."""
    app.add_typer(pipeline_app, name="pipeline")
    app.add_typer(endpoint_app, name="endpoint")
    app.add_typer(batch_app, name="batch")
    app.add_typer(monitor_app, name="monitor")

"""``emotion-clf azure pipeline | endpoint | batch``: Azure ML from the command line.

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
from emotion_clf.azure.sdk import AzureTarget, azure_target
from emotion_clf.cli.output import console, info, print_json, warn
from emotion_clf.config import Settings, get_settings
from emotion_clf.errors import ConfigError
from emotion_clf.registry import open_registry

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Write the entities as YAML under --out; call nothing.")
]
OutOption = Annotated[
    Path | None, typer.Option(help="Where --dry-run writes (default: <home>/azureml/<group>).")
]
EndpointOption = Annotated[str, typer.Option("--endpoint", help="The online endpoint's name.")]
VersionOption = Annotated[
    str | None, typer.Option(help="Registry version (default: the one designated dynamic).")
]

pipeline_app = typer.Typer(help="The training pipeline on a compute cluster.", no_args_is_help=True)
endpoint_app = typer.Typer(
    help="Managed online endpoints, blue-green (deployments blue and green).", no_args_is_help=True
)
batch_app = typer.Typer(help="The batch endpoint: files in a datastore.", no_args_is_help=True)


def _out(settings: Settings, out: Path | None, group: str) -> Path:
    return out or settings.home / "azureml" / group


def _staging(settings: Settings) -> Path:
    """Where live commands stage build contexts and entry code before the SDK uploads them."""
    return settings.home / ".cache" / "azureml"


def _target_or_none(settings: Settings, dry_run: bool) -> AzureTarget | None:
    """The workspace from settings; a dry run may go without (and says what is left out)."""
    try:
        return azure_target(settings, workspace=True)
    except ConfigError as exc:
        if not dry_run:
            raise
        warn(f"dry run without a workspace: {exc}")
        return None


def _version(settings: Settings, version: str | None, dry_run: bool) -> str:
    if version:
        if not version.isdigit():
            raise ConfigError(f"--version {version!r} is not a version number")
        return version
    if dry_run:
        raise ConfigError("--dry-run needs --version V (it reads no registry)")
    return open_registry(settings, read_only=True).resolve("dynamic").version


def _written(plan: Plan, out: Path, json_output: bool) -> None:
    files = plan.write(out)
    if json_output:
        print_json({"dry_run": True, "files": [str(f) for f in files]})
        return
    info(f"dry run: nothing was sent to Azure; {len(files)} files under {out}")
    for path in files:
        console.print(f"  {path}", highlight=False)


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
    target = _target_or_none(settings, dry_run)
    folder = _out(settings, out, "pipeline") if dry_run else _staging(settings)
    plan = _pipeline_plan(
        settings, family=family, seed=seed, compute=compute, data=data, target=target, out=folder
    )
    if dry_run:
        _written(plan, folder, json_output)
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
    target = _target_or_none(settings, dry_run)
    folder = _out(settings, out, "pipeline") if dry_run else _staging(settings)
    spec = PipelineSpec(
        family=family,
        seed=seed,
        compute=compute or settings.azureml.compute,
        data=settings.raw_data_dir,
    )
    plan = plan_schedule(spec, settings=settings, target=target, out=folder, name=name, cron=cron)
    if dry_run:
        _written(plan, folder, json_output)
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
    from emotion_clf.azure.ml.endpoint import deploy
    from emotion_clf.azure.ml.online import plan_deploy

    settings = get_settings()
    chosen = _version(settings, version, dry_run)
    if dry_run:
        folder = _out(settings, out, "endpoint")
        plan = plan_deploy(
            settings=settings,
            endpoint=endpoint,
            version=chosen,
            colour=colour or other_colour(None),
            out=folder,
        )
        _written(plan, folder, json_output)
        return
    with azure_call(f"deploying v{chosen} to endpoint {endpoint}"):
        result = deploy(
            ml_client(settings),
            endpoint=endpoint,
            version=chosen,
            settings=settings,
            code_root=_staging(settings),
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
@batch_app.command("deploy")
def batch_deploy(
    endpoint: Annotated[
        str | None,
        typer.Option(help="Batch endpoint (default: EMOTION_CLF_AZUREML_BATCH_ENDPOINT)."),
    ] = None,
    version: VersionOption = None,
    compute: Annotated[str | None, typer.Option(help="Compute cluster.")] = None,
    mini_batch_size: Annotated[int, typer.Option(help="Files per mini-batch.")] = 10,
    output_format: Annotated[
        str, typer.Option("--format", help="Output per file: csv, jsonl or parquet.")
    ] = "csv",
    dry_run: DryRun = False,
    out: OutOption = None,
    json_output: JsonOption = False,
) -> None:
    """Create or update the batch endpoint and its deployment of a version."""
    from emotion_clf.azure.ml.batch import deploy, plan_deploy

    settings = get_settings()
    chosen = _version(settings, version, dry_run)
    folder = _out(settings, out, "batch") if dry_run else _staging(settings)
    plan = plan_deploy(
        settings=settings,
        endpoint=endpoint or settings.azureml.batch_endpoint,
        version=chosen,
        compute=compute or settings.azureml.compute,
        out=folder,
        mini_batch_size=mini_batch_size,
        output_format=output_format,
    )
    if dry_run:
        _written(plan, folder, json_output)
        return
    with azure_call("deploying the batch endpoint"):
        created = deploy(ml_client(settings), plan)
    if json_output:
        print_json(
            {"endpoint": created.name, "version": chosen, "scoring_uri": created.scoring_uri}
        )
        return
    info(f"batch endpoint {created.name} serves v{chosen}: {created.scoring_uri}")


@batch_app.command("score")
def batch_score(
    input_uri: Annotated[
        str,
        typer.Option(
            "--input", help="A folder: azureml://datastores/.../paths/..., or azureml:data:v."
        ),
    ],
    endpoint: Annotated[str | None, typer.Option(help="Batch endpoint.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Start a batch job over every file under --input; outputs land in the job's folder."""
    from emotion_clf.azure.ml.batch import score

    settings = get_settings()
    with azure_call("starting the batch job"):
        job = score(
            ml_client(settings),
            endpoint=endpoint or settings.azureml.batch_endpoint,
            input_uri=input_uri,
        )
    if json_output:
        print_json({"job": job.name, "status": job.status, "studio_url": job.studio_url})
        return
    info(f"batch job {job.name} ({job.status}): {job.studio_url}")


def register(app: typer.Typer) -> None:
    """Add the Azure ML groups to ``emotion-clf azure``."""
    app.add_typer(pipeline_app, name="pipeline")
    app.add_typer(endpoint_app, name="endpoint")
    app.add_typer(batch_app, name="batch")

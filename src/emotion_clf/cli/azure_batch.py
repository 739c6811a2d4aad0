"""``emotion-clf azure batch``: the batch endpoint, a deployment per version."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from emotion_clf.azure.ml.workspace import azure_call, ml_client
from emotion_clf.cli.azure_ml_common import (
    DryRun,
    JsonOption,
    OutOption,
    VersionOption,
    chosen_version,
    out_folder,
    staging,
    written,
)
from emotion_clf.cli.output import MARKUP, console, info, print_json, warn
from emotion_clf.config import get_settings

batch_app = typer.Typer(
    rich_markup_mode=MARKUP, help="The batch endpoint: files in a datastore.", no_args_is_help=True
)


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
    test_input: Annotated[
        str | None,
        typer.Option(
            help="A small folder to score with the new deployment, by name, before it becomes "
            "the default (default: EMOTION_CLF_AZUREML_BATCH_TEST_INPUT; without one the new "
            "deployment becomes the default untested)."
        ),
    ] = None,
    dry_run: DryRun = False,
    out: OutOption = None,
    json_output: JsonOption = False,
) -> None:
    """Add the version's deployment (emotion-clf-vN) beside the serving one, test it by name,
    then make it the default; the old one stays for `batch rollback`."""
    from emotion_clf.azure.ml.batch import deploy, plan_deploy

    settings = get_settings()
    chosen = chosen_version(settings, version, dry_run)
    folder = out_folder(settings, out, "batch") if dry_run else staging(settings)
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
        written(plan, folder, json_output)
        return
    probe = test_input or settings.azureml.batch_test_input
    if probe is None:
        warn("no --test-input: the new deployment becomes the default without a test job")
    with azure_call("deploying the batch endpoint"):
        result = deploy(ml_client(settings), plan, test_input=probe)
    if json_output:
        print_json(result.to_dict())
    else:
        console.print(result.message, highlight=False)
    if not result.ok:
        raise typer.Exit(1)


@batch_app.command("rollback")
def batch_rollback(
    endpoint: Annotated[str | None, typer.Option(help="Batch endpoint.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Make the deployment of the previous version the endpoint's default again."""
    from emotion_clf.azure.ml.batch import rollback

    settings = get_settings()
    name = endpoint or settings.azureml.batch_endpoint
    with azure_call(f"rolling batch endpoint {name} back"):
        before, after = rollback(ml_client(settings), endpoint=name)
    if json_output:
        print_json({"endpoint": name, "from": before, "to": after})
        return
    info(f"batch endpoint {name}: default {before} -> {after}")


@batch_app.command("score")
def batch_score(
    input_uri: Annotated[
        str,
        typer.Option(
            "--input", help="A folder: azureml://datastores/.../paths/..., or azureml:data:v."
        ),
    ],
    endpoint: Annotated[str | None, typer.Option(help="Batch endpoint.")] = None,
    deployment: Annotated[
        str | None, typer.Option(help="A deployment by name (default: the endpoint's default).")
    ] = None,
    wait_for_it: Annotated[
        bool,
        typer.Option("--wait", help="Follow the job until it ends (exit 1 unless it completes)."),
    ] = False,
    download_to: Annotated[
        Path | None,
        typer.Option(
            "--download", help="Then download its outputs into this folder (implies --wait)."
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Start a batch job over every file under --input; outputs land in the job's folder."""
    from emotion_clf.azure.ml.batch import download, score, wait

    settings = get_settings()
    with azure_call("starting the batch job"):
        client = ml_client(settings)
        job = score(
            client,
            endpoint=endpoint or settings.azureml.batch_endpoint,
            input_uri=input_uri,
            deployment=deployment,
        )
    summary: dict[str, Any] = {"job": job.name, "status": job.status, "studio_url": job.studio_url}
    if wait_for_it or download_to is not None:
        if not json_output:
            info(f"batch job {job.name} started: {job.studio_url}; waiting for it to end")
        with azure_call(f"following batch job {job.name}"):
            summary["status"] = wait(client, job.name)
        if summary["status"] == "Completed" and download_to is not None:
            with azure_call(f"downloading the outputs of {job.name}"):
                summary["downloaded"] = str(download(client, job.name, download_to))
    if json_output:
        print_json(summary)
    else:
        where = f"; outputs in {summary['downloaded']}" if "downloaded" in summary else ""
        info(f"batch job {job.name} ({summary['status']}): {job.studio_url}{where}")
    if (wait_for_it or download_to is not None) and summary["status"] != "Completed":
        raise typer.Exit(1)

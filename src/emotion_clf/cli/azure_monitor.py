"""``emotion-clf azure monitor create``: Azure ML's model monitor on a deployment's traffic."""

from __future__ import annotations

from typing import Annotated

import typer

from emotion_clf.azure.ml.workspace import azure_call, ml_client
from emotion_clf.cli.azure_ml_common import (
    DryRun,
    EndpointOption,
    JsonOption,
    OutOption,
    out_folder,
    staging,
    written,
)
from emotion_clf.cli.output import MARKUP, info, print_json
from emotion_clf.config import get_settings
from emotion_clf.data.profile import load_profile
from emotion_clf.errors import ConfigError
from emotion_clf.registry import resolve_model

monitor_app = typer.Typer(
    rich_markup_mode=MARKUP,
    help="Azure ML model monitoring of an online deployment's collected traffic.",
    no_args_is_help=True,
)


@monitor_app.command("create")
def monitor_create(
    endpoint: EndpointOption,
    deployment: Annotated[
        str, typer.Option(help="The deployment (colour) whose collected traffic is checked.")
    ],
    model: Annotated[
        str, typer.Option(help="Whose reference profile: baseline, a version or a bundle folder.")
    ] = "baseline",
    name: Annotated[str | None, typer.Option(help="Schedule name.")] = None,
    email: Annotated[
        list[str] | None, typer.Option(help="Who Azure alerts when a signal flags (repeatable).")
    ] = None,
    dry_run: DryRun = False,
    out: OutOption = None,
    json_output: JsonOption = False,
) -> None:
    """A daily monitor: prediction drift on the three heads' labels and data drift on the text
    length of the deployment's collected traffic, against the version's reference profile."""
    from emotion_clf.azure.ml.monitor import create_monitor, plan_monitor

    settings = get_settings()
    resolved = resolve_model(model, settings=settings)
    profile = load_profile(resolved.path)
    if profile is None:
        raise ConfigError(f"{resolved.label} has no reference profile (retrain it)")
    version = resolved.version or "0"
    folder = out_folder(settings, out, "monitor") if dry_run else staging(settings)
    plan = plan_monitor(
        profile=profile,
        version=version,
        endpoint=endpoint,
        deployment=deployment,
        out=folder,
        name=name or f"{endpoint}-{deployment}-drift",
        threshold=settings.azureml.monitor_threshold,
        emails=email or None,
    )
    if dry_run:
        written(plan, folder, json_output)
        return
    with azure_call(f"creating the monitor of {endpoint}/{deployment}"):
        created = create_monitor(ml_client(settings), plan)
    if json_output:
        print_json({"schedule": created.name, "endpoint": endpoint, "deployment": deployment})
        return
    info(f"monitor {created.name}: {endpoint}/{deployment} against v{version}, daily")

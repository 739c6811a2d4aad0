"""What the ``emotion-clf azure`` Azure ML commands share: options, where a dry run writes,
the workspace a dry run may go without, the version a command acts on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emotion_clf.azure.ml.workspace import Plan
from emotion_clf.azure.sdk import AzureTarget, azure_target
from emotion_clf.cli.output import console, info, print_json, warn
from emotion_clf.config import Settings
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


def out_folder(settings: Settings, out: Path | None, group: str) -> Path:
    return out or settings.home / "azureml" / group


def staging(settings: Settings) -> Path:
    """Where live commands stage build contexts and entry code before the SDK uploads them."""
    return settings.home / ".cache" / "azureml"


def target_or_none(settings: Settings, dry_run: bool) -> AzureTarget | None:
    """The workspace from settings; a dry run may go without (and says what is left out)."""
    try:
        return azure_target(settings, workspace=True)
    except ConfigError as exc:
        if not dry_run:
            raise
        warn(f"dry run without a workspace: {exc}")
        return None


def chosen_version(settings: Settings, version: str | None, dry_run: bool) -> str:
    if version:
        if not version.isdigit():
            raise ConfigError(f"--version {version!r} is not a version number")
        return version
    if dry_run:
        raise ConfigError("--dry-run needs --version V (it reads no registry)")
    return open_registry(settings, read_only=True).resolve("dynamic").version


def written(plan: Plan, out: Path, json_output: bool) -> None:
    files = plan.write(out)
    if json_output:
        print_json({"dry_run": True, "files": [str(f) for f in files]})
        return
    info(f"dry run: nothing was sent to Azure; {len(files)} files under {out}")
    for path in files:
        console.print(f"  {path}", highlight=False)

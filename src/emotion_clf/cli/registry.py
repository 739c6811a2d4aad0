"""``registry list | show | history | register | uri | unlock``.

The commands that read open the registry read-only: a store that is missing is an error
naming where it was looked for, never a new, empty registry. Only ``register`` creates one
(and says so); ``unlock`` needs it to exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from emotion_clf.cli.output import MARKUP, console, info, print_json, say_if_created
from emotion_clf.config import get_settings
from emotion_clf.models import read_manifest
from emotion_clf.promotion import unlock as unlock_registry
from emotion_clf.registry import ModelCache, fetch_version, open_registry, trained_on_same_data

app = typer.Typer(
    rich_markup_mode=MARKUP,
    help="The model registry: versions, designations, promotion history.",
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
KEY_METRICS = {
    "test.emotion.accuracy": "emo acc",
    "test.emotion.macro_f1": "emo F1",
    "test.sub_emotion.accuracy": "sub acc",
    "test.intensity.accuracy": "int acc",
}


@app.command("list")
def list_versions(json_output: JsonOption = False) -> None:
    """Every version with its designations, key metrics and creation time."""
    versions = open_registry(get_settings(), read_only=True).versions()
    if json_output:
        print_json([v.to_dict() for v in versions])
        return
    if not versions:
        info("the registry holds no version yet; train with --register")
        return
    table = Table(title="registered versions", title_justify="left")
    for column in ("version", "designations", "family", "created"):
        table.add_column(column)
    for column in KEY_METRICS.values():
        table.add_column(column, justify="right")
    for v in versions:
        metrics = v.metrics
        table.add_row(
            v.version,
            ", ".join(v.designations) or "-",
            v.family or "?",
            v.created_at[:16].replace("T", " "),
            *(f"{metrics[k]:.3f}" if k in metrics else "-" for k in KEY_METRICS),
        )
    console.print(table)


@app.command()
def show(
    version: Annotated[str, typer.Argument(help="A version number, baseline or dynamic.")],
    json_output: JsonOption = False,
) -> None:
    """One version: registry record, bundle manifest and its audit entries."""
    settings = get_settings()
    registry = open_registry(settings, read_only=True)
    record = registry.resolve(version)
    local = fetch_version(registry, ModelCache(settings.cache_dir), record)
    manifest = read_manifest(local.path).to_dict()
    manifest.pop("files", None)
    history = [
        e.to_dict()
        for e in registry.audit.entries()
        if record.version in (e.to_version, e.from_version)
    ]
    data = {**record.to_dict(), "manifest": manifest, "history": history}
    if json_output:
        print_json(data)
        return
    console.print_json(data=data)


@app.command()
def history(
    limit: Annotated[int, typer.Option(help="How many entries, newest first.")] = 50,
    json_output: JsonOption = False,
) -> None:
    """The promotion audit log: who moved the baseline, from where to where, when and why."""
    registry = open_registry(get_settings(), read_only=True)
    lock = registry.lock_state()
    entries = registry.audit.entries(limit=limit, lock_holder=lock.audit_id if lock else None)
    if json_output:
        print_json([e.to_dict() for e in entries])
        return
    if not entries:
        info("no promotion yet")
        return
    table = Table(title="promotion history (newest first)", title_justify="left")
    for column in ("when", "action", "from", "to", "who", "why", "forced", "status"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            e.at[:16].replace("T", " "),
            e.action,
            e.from_version or "-",
            e.to_version,
            e.actor,
            e.reason,
            "yes" if e.forced else "",
            e.status,
        )
    console.print(table)


@app.command("register")
def register_bundle(
    bundle: Annotated[Path, typer.Argument(help="A bundle folder (from `emotion-clf train`).")],
    designate: Annotated[
        str, typer.Option(help="Designation to move to the new version: dynamic, or none.")
    ] = "dynamic",
    skip_same_data: Annotated[
        bool,
        typer.Option(
            "--skip-same-data",
            help="Register nothing (exit 0) when a version of the same family was already "
            "trained on the same data (a scheduled run with no new batches).",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Register a bundle folder as a new version (the training pipeline's last step)."""
    registry = open_registry(get_settings(), create=True)
    if skip_same_data:
        same = trained_on_same_data(registry.versions(), read_manifest(bundle))
        if same is not None:
            message = (
                f"no new data: v{same.version} ({same.family}) was trained on the same data "
                f"({same.tags.get('data_fingerprint', '')[:12]}); nothing registered"
            )
            if json_output:
                print_json({"registered": None, "same_as": same.version, "message": message})
            else:
                info(message)
            return
    record = registry.register_bundle(bundle, designate=None if designate == "none" else designate)
    say_if_created(registry)
    if json_output:
        print_json(record.to_dict())
        return
    info(f"registered {bundle} as version {record.version} in {registry.location}")


@app.command()
def uri() -> None:
    """The MLflow tracking URI of the registry (for `mlflow ui --backend-store-uri`); it
    opens nothing, so it answers whether or not the store exists."""
    print(get_settings().resolved_tracking_uri)


@app.command()
def unlock() -> None:
    """Remove a promotion lock left behind by a killed process."""
    removed = unlock_registry(settings=get_settings())
    info("promotion lock removed" if removed else "no promotion lock was held")

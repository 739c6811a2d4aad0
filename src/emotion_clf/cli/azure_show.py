"""Rendering for the container commands: deploy checks, rollouts, statuses."""

from __future__ import annotations

from rich.table import Table

from emotion_clf.azure.containers.aca_live import AcaStatus
from emotion_clf.azure.containers.aci import AciStatus
from emotion_clf.azure.containers.spec import DeployCheck
from emotion_clf.azure.rollout import RolloutResult
from emotion_clf.cli.health import show_health
from emotion_clf.cli.output import console, info


def show_check(result: DeployCheck) -> None:
    if result.health is not None:
        show_health(result.health)
    verdict = "[green]passed[/]" if result.passed else "[red]FAILED[/]"
    console.print(f"health check of {result.url}: {verdict}: {result.summary}", highlight=False)


def show_rollout(result: RolloutResult) -> None:
    table = Table(title=f"traffic {result.old} -> {result.new}", title_justify="left")
    for column in ("step", result.new, result.old, "check", "detail"):
        table.add_column(column, overflow="fold")
    for i, step in enumerate(result.steps):
        table.add_row(
            str(i),
            f"{step.weights.get(result.new, 0)}%",
            f"{step.weights.get(result.old, 0)}%" if result.old != "-" else "-",
            "[green]pass[/]" if step.passed else "[red]FAIL[/]",
            step.detail,
        )
    console.print(table)
    colour = "green" if result.ok else "red"
    console.print(f"[{colour}]{result.message}[/]", highlight=False)


def show_aci_status(state: AciStatus) -> None:
    table = Table(title=f"container group {state.name}", title_justify="left")
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for key, value in state.to_dict().items():
        if key != "events":
            table.add_row(key, "-" if value is None else str(value))
    console.print(table)
    for event in state.events:
        info(f"  {event}")


def show_aca_status(state: AcaStatus) -> None:
    data = state.to_dict()
    info(f"{state.name}: {data['url'] or 'no ingress address'}; {state.colours.describe()}")
    table = Table(title="revisions (newest first)", title_justify="left")
    for column in (
        "revision",
        "label",
        "weight",
        "model",
        "active",
        "replicas",
        "health",
        "created",
    ):
        table.add_column(column, overflow="fold")
    for r in state.revisions:
        table.add_row(
            r.name,
            r.label or "-",
            f"{r.weight}%",
            r.model or "-",
            "yes" if r.active else "no",
            "-" if r.replicas is None else str(r.replicas),
            r.health or "-",
            r.created or "-",
        )
    console.print(table)

"""``compare``, ``promote``, ``rollback`` and ``refresh``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from emotion_clf.cli.output import console, error, info, print_json, warn
from emotion_clf.config import Settings, get_settings
from emotion_clf.data.schema import HEADS
from emotion_clf.promotion import (
    GateDecision,
    LifecycleResult,
    RefreshResult,
    compare_models,
    promote,
    refresh_servers,
    rollback,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
DataOption = Annotated[
    Path | None, typer.Option(help="Labelled rows to compare on (default: the bundled test split).")
]


def show_decision(decision: GateDecision) -> None:
    colour = "green" if decision.promote else "red"
    console.print(f"gate decision: [bold {colour}]{decision.decision}[/]")
    for check in decision.checks:
        mark = "[green]pass[/]" if check.passed else "[red]FAIL[/]"
        console.print(f"  {mark} {check.name}: {check.detail}", highlight=False)


def show_refresh(results: list[RefreshResult]) -> None:
    if not results:
        info("no refresh endpoints configured (EMOTION_CLF_REFRESH_ENDPOINTS is empty)")
        return
    for r in results:
        if r.ok:
            info(f"[green]ok[/] {r.endpoint}: {r.describe()}")
        else:
            warn(f"{r.endpoint}: not refreshed after {r.attempts} attempt(s): {r.describe()}")


def show_rollouts(result: LifecycleResult) -> None:
    for r in result.rollouts:
        if r.ok:
            info(f"[green]ok[/] {r.name}: {r.message}")
        else:
            warn(f"{r.name}: {r.message}")


def _finish(result: LifecycleResult, json_output: bool) -> None:
    if json_output:
        print_json(result.to_dict())
    else:
        console.print(result.message)
        show_rollouts(result)
        show_refresh(result.refresh)
    if result.rollout_failed:
        if not json_output:
            error(
                "a rollout failed; the registry change stands. Check the endpoint with "
                "`emotion-clf azure endpoint status`, then `emotion-clf rollback` or deploy again."
            )
        raise typer.Exit(3)
    if result.refresh_failed:
        if not json_output:
            error(
                "some servers did not refresh; the registry change stands. "
                "Retry with `emotion-clf refresh`."
            )
        raise typer.Exit(3)


def compare(
    candidate: Annotated[
        str, typer.Option(help="Candidate: dynamic, a version or a bundle path.")
    ] = "dynamic",
    baseline: Annotated[
        str, typer.Option(help="Baseline: baseline, a version or a bundle path.")
    ] = "baseline",
    data: DataOption = None,
    json_output: JsonOption = False,
) -> None:
    """Compare candidate and baseline on the same rows; decide promote or hold."""
    report = compare_models(
        settings=get_settings(), candidate=candidate, baseline=baseline, data=data
    )
    if json_output:
        print_json(report.to_dict())
        return
    console.print(
        f"candidate {report.candidate.label} vs baseline "
        f"{report.baseline.label if report.baseline else '(none)'} "
        f"on {report.data} ({report.candidate_eval.rows} rows)"
    )
    comparison = report.decision.comparison
    if comparison is not None:
        table = Table(title="per head", title_justify="left")
        for column in ("head", "metric", "baseline", "candidate", "delta"):
            table.add_column(column, justify="left" if column in ("head", "metric") else "right")
        for head in HEADS:
            c = comparison[head]
            for metric in ("accuracy", "macro_f1", "weighted_f1"):
                table.add_row(
                    head,
                    metric,
                    f"{c.baseline[metric]:.3f}",
                    f"{c.candidate[metric]:.3f}",
                    f"{c.deltas[metric]:+.3f}",
                )
            low, high = c.macro_f1_ci
            table.add_row(head, "macro-F1 delta 95% CI", "", "", f"{low:+.3f}..{high:+.3f}")
            table.add_row(head, "McNemar p", "", "", f"{c.mcnemar.p_value:.3g}")
        console.print(table)
    show_decision(report.decision)


def promote_command(
    version: Annotated[
        str | None, typer.Option(help="Version to promote (default: dynamic).")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Skip the gate (needs --reason; the audit says so).")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why; recorded in the audit log.")] = None,
    data: DataOption = None,
    endpoint: Annotated[
        list[str] | None,
        typer.Option(
            help="An Azure ML online endpoint to roll the new baseline out to, blue-green "
            "(repeat for several; the [azure] extra and EMOTION_CLF_AZURE_* settings)."
        ),
    ] = None,
    steps: Annotated[
        str | None,
        typer.Option(
            help="Traffic steps for --endpoint (default: EMOTION_CLF_AZUREML_TRAFFIC_STEPS)."
        ),
    ] = None,
    mirror: Annotated[
        int,
        typer.Option(help="For --endpoint: mirror this percent of live traffic to it first."),
    ] = 0,
    mirror_seconds: Annotated[float, typer.Option(help="How long to mirror.")] = 60.0,
    json_output: JsonOption = False,
) -> None:
    """Run the gate, move baseline to the candidate, roll it out to each --endpoint, tell
    every server to reload."""
    settings = get_settings()
    rollouts = endpoint_rollouts(
        settings, endpoint or [], steps, mirror=mirror, mirror_seconds=mirror_seconds
    )
    result = promote(
        settings=settings, version=version, force=force, reason=reason, data=data, rollouts=rollouts
    )
    if result.decision is not None and not json_output:
        show_decision(result.decision)
    _finish(result, json_output)


def endpoint_rollouts(
    settings: Settings,
    endpoints: list[str],
    steps: str | None,
    *,
    mirror: int = 0,
    mirror_seconds: float = 60.0,
) -> list[Any]:
    """One Azure ML endpoint rollout per --endpoint (the workspace client built once)."""
    if not endpoints:
        return []
    from emotion_clf.azure.ml.autoscale import autoscaler_for
    from emotion_clf.azure.ml.endpoint import EndpointRollout
    from emotion_clf.azure.ml.workspace import ml_client

    client = ml_client(settings)
    autoscaler = autoscaler_for(settings)
    return [
        EndpointRollout(
            client,
            endpoint=name,
            settings=settings,
            code_root=settings.home / ".cache" / "azureml",
            steps=steps or settings.azureml.traffic_steps,
            mirror_percent=mirror,
            mirror_seconds=mirror_seconds,
            autoscaler=autoscaler,
        )
        for name in endpoints
    ]


def rollback_command(
    to: Annotated[
        str | None, typer.Option(help="Version to go back to (default: the previous baseline).")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why; recorded in the audit log.")] = None,
    endpoint: Annotated[
        list[str] | None,
        typer.Option(help="An Azure ML online endpoint to roll the restored baseline out to."),
    ] = None,
    steps: Annotated[str | None, typer.Option(help="Traffic steps for --endpoint.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Move baseline back to the previous (or a named) version, roll it out to each
    --endpoint, and tell servers to reload."""
    settings = get_settings()
    rollouts = endpoint_rollouts(settings, endpoint or [], steps)
    _finish(rollback(settings=settings, to=to, reason=reason, rollouts=rollouts), json_output)


def refresh(json_output: JsonOption = False) -> None:
    """Call POST /refresh-model on every configured endpoint again."""
    results = refresh_servers(get_settings())
    if json_output:
        print_json([r.to_dict() for r in results])
    else:
        show_refresh(results)
    if any(not r.ok for r in results):
        raise typer.Exit(3)


def register(app: typer.Typer) -> None:
    app.command()(compare)
    app.command("promote")(promote_command)
    app.command("rollback")(rollback_command)
    app.command()(refresh)

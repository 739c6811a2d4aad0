"""``health-check``: scenario tests of a running API, or a load test with an optional switch."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from emotion_clf.checks.health import HealthReport, check_health
from emotion_clf.checks.load import LoadReport, run_load
from emotion_clf.cli.output import console, info, print_json, warn
from emotion_clf.config import get_settings
from emotion_clf.errors import ConfigError
from emotion_clf.promotion import fan_out, promote, rollback

SWITCHES = ("refresh", "promote", "rollback")


def parse_headers(values: list[str]) -> dict[str, str]:
    headers = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise ConfigError(f"--header {value!r}: write it as 'Name: value'")
        headers[name.strip()] = content.strip()
    return headers


def show_health(report: HealthReport) -> None:
    table = Table(title=f"health check of {report.url}", title_justify="left")
    for column in ("scenario", "request", "expected", "got", "result", "detail", "ms"):
        table.add_column(column, justify="right" if column == "ms" else "left", overflow="fold")
    for r in report.results:
        mark = "[green]pass[/]" if r.passed else "[red]FAIL[/]"
        table.add_row(
            r.name,
            r.request,
            r.expected,
            str(r.status) if r.status is not None else "-",
            mark,
            r.detail if not r.passed else "",
            f"{r.latency_ms:.0f}",
        )
    console.print(table)
    verdict = "[green]healthy[/]" if report.passed else f"[red]{len(report.failures)} failed[/]"
    console.print(f"{len(report.results)} scenarios: {verdict}")


def show_load(report: LoadReport) -> None:
    table = Table(title=f"load test of {report.url}", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("clients", str(report.clients)),
        ("seconds", f"{report.seconds:.1f}"),
        ("requests", str(report.requests)),
        ("failures", str(report.failures)),
        ("throughput (requests/s)", f"{report.throughput_rps:.1f}"),
        *((f"latency {k} (ms)", f"{v:.1f}") for k, v in report.latency_ms.items()),
        ("answered by version", ", ".join(f"v{k}: {n}" for k, n in report.versions.items())),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if report.switch is not None:
        s = report.switch
        console.print(
            f"{s.action} at {s.at_s:.1f} s took {s.took_s:.2f} s: "
            f"{'ok' if s.ok else 'FAILED'}: {s.detail}\n"
            f"  versions before: {s.versions_before}; during: {s.in_between}; "
            f"after: {s.versions_after}",
            highlight=False,
        )
    for sample in report.failure_samples:
        warn(sample)


def health_check(
    url: Annotated[str, typer.Option(help="The server, e.g. http://127.0.0.1:8000.")],
    token: Annotated[
        str | None,
        typer.Option(help="The server's refresh token (default: EMOTION_CLF_REFRESH_TOKEN)."),
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option(help="'Name: value' sent with every request (repeat).")
    ] = None,
    batch_limit: Annotated[int, typer.Option(help="The server's EMOTION_CLF_BATCH_LIMIT.")] = 256,
    max_body_bytes: Annotated[
        int, typer.Option(help="The server's EMOTION_CLF_MAX_BODY_BYTES.")
    ] = 1_000_000,
    load: Annotated[bool, typer.Option("--load", help="Run a load test instead.")] = False,
    concurrency: Annotated[int, typer.Option(help="[load] concurrent clients.")] = 8,
    duration: Annotated[float | None, typer.Option(help="[load] seconds to run.")] = None,
    requests: Annotated[int | None, typer.Option(help="[load] requests to send.")] = None,
    switch: Annotated[
        str | None,
        typer.Option(
            help=f"[load] mid-run: {', '.join(SWITCHES)}. promote (forced, skipping the gate) "
            "and rollback move baseline in this machine's registry, then refresh --url."
        ),
    ] = None,
    switch_at: Annotated[
        float | None, typer.Option(help="[load] seconds into the run (default: half-way).")
    ] = None,
    version: Annotated[
        str | None, typer.Option(help="[load] the version --switch promote moves baseline to.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Check a running API: every scenario with its expected outcome, or (--load) a bounded
    load test. Exit code 0: all passed; 1: a scenario or request failed; 2: no answer."""
    settings = get_settings()
    secret = (
        settings.promotion.refresh_token.get_secret_value()
        if settings.promotion.refresh_token
        else None
    )
    token = token or secret
    headers = parse_headers(header or [])
    if not load:
        if duration is not None or requests is not None or switch is not None:
            raise ConfigError("--duration, --requests and --switch belong to --load")
        health = check_health(
            url,
            token=token,
            headers=headers,
            batch_limit=batch_limit,
            max_body_bytes=max_body_bytes,
        )
        if json_output:
            print_json(health.to_dict())
        else:
            show_health(health)
        raise typer.Exit(0 if health.passed else (1 if health.reachable else 2))

    if (duration is None) == (requests is None):
        raise ConfigError("--load needs --duration S or --requests N (one of them)")
    if switch is not None and switch not in SWITCHES:
        raise ConfigError(f"--switch must be one of {', '.join(SWITCHES)}")
    if switch == "promote" and not version:
        raise ConfigError("--switch promote needs --version V")
    endpoint = url.rstrip("/") + "/refresh-model"

    def refresh() -> str:
        [result] = fan_out([endpoint], token=token, retries=0)
        if not result.ok:
            raise RuntimeError(result.describe())
        return result.describe()

    def promote_then_refresh() -> str:  # forced: a load test checks the swap, not the gate
        moved = promote(
            settings=settings, version=version, force=True, reason="load test", refresh=False
        )
        return f"{moved.message}; {refresh()}"

    def rollback_then_refresh() -> str:
        moved = rollback(settings=settings, reason="load test", refresh=False)
        return f"{moved.message}; {refresh()}"

    actions = {
        "refresh": refresh,
        "promote": promote_then_refresh,
        "rollback": rollback_then_refresh,
    }
    action = (switch, actions[switch]) if switch is not None else None
    if not json_output:
        info(f"loading {url} with {concurrency} clients ...")
    report = run_load(
        url,
        clients=concurrency,
        duration_s=duration,
        max_requests=requests,
        headers=headers,
        switch=action,
        switch_at_s=switch_at,
    )
    if json_output:
        print_json(report.to_dict())
    else:
        show_load(report)
    failed = report.failures > 0 or (report.switch is not None and not report.switch.ok)
    if report.requests and report.failures == report.requests:
        raise typer.Exit(2)
    raise typer.Exit(1 if failed else 0)


def register(app: typer.Typer) -> None:
    app.command("health-check")(health_check)

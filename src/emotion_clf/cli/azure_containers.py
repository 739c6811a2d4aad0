"""``azure aci deploy | status | delete`` and ``azure aca deploy | promote | rollback | status``.

Thin: settings in, a :class:`~emotion_clf.azure.ContainerSpec` built, the package's objects
and decisions used, results printed. ``--dry-run`` writes the body that would be sent
(secrets as placeholders) under ``--out`` and calls nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from emotion_clf.azure.containers import aca, aca_live, aci
from emotion_clf.azure.containers.spec import (
    ContainerSpec,
    DeployCheck,
    check_deployed,
    container_spec,
    parse_env,
)
from emotion_clf.azure.ml.workspace import azure_call
from emotion_clf.azure.rollout import parse_steps, roll_back, roll_out
from emotion_clf.azure.sdk import azure_target
from emotion_clf.cli.azure_show import show_aca_status, show_aci_status, show_check, show_rollout
from emotion_clf.cli.output import MARKUP, info, print_json, warn
from emotion_clf.config import Settings, get_settings
from emotion_clf.errors import ConfigError
from emotion_clf.files import write_json_atomic

aci_app = typer.Typer(
    rich_markup_mode=MARKUP,
    help="Azure Container Instances: one container group running the API server.",
    no_args_is_help=True,
)
aca_app = typer.Typer(
    rich_markup_mode=MARKUP,
    help="Azure Container Apps: blue and green revisions, traffic shifted in checked steps.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
ImageOption = Annotated[
    str | None, typer.Option(help="Image to run (default: EMOTION_CLF_CONTAINER_IMAGE).")
]
EnvOption = Annotated[
    list[str] | None, typer.Option("--env", help="NAME=VALUE for the container (repeat).")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Write what would be sent under --out; send nothing.")
]
OutOption = Annotated[
    Path | None, typer.Option(help="Folder for --dry-run files (default: <home>/dry-run).")
]
CheckOption = Annotated[
    bool, typer.Option("--check/--no-check", help="Health-check the new server after deploy.")
]
ColourOption = Annotated[str | None, typer.Option(help="blue or green.")]


def register(app: typer.Typer) -> None:
    for group, name in ((aci_app, "aci"), (aca_app, "aca")):
        for command in group.registered_commands:
            assert command.callback is not None
            label = command.name or command.callback.__name__
            command.callback = cloud_errors(command.callback, f"azure {name} {label}")
        app.add_typer(group, name=name)


def cloud_errors(callback: Callable[..., Any], action: str) -> Callable[..., Any]:
    """The command, with Azure's exceptions (a refused credential, an API error) turned into
    one :class:`~emotion_clf.errors.CloudError` line instead of a stack trace."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        with azure_call(action):
            return callback(*args, **kwargs)

    return run


def refresh_token(settings: Settings) -> str | None:
    return (
        settings.promotion.refresh_token.get_secret_value()
        if settings.promotion.refresh_token
        else None
    )


def spec_from(
    settings: Settings, *, image: str | None, model: str | None, env: list[str] | None
) -> ContainerSpec:
    spec = container_spec(settings, image=image, model=model, extra_env=parse_env(env or []))
    if settings.promotion.refresh_token is None:
        warn("no EMOTION_CLF_REFRESH_TOKEN: the server's POST /refresh-model will be disabled")
    return spec


def dry_run_file(settings: Settings, out: Path | None, name: str, body: dict[str, object]) -> Path:
    path = write_json_atomic((out or settings.home / "dry-run") / name, body)
    info(f"dry run: wrote {path} (secrets as <secret:SETTING> placeholders); nothing sent")
    return path


def finish_check(result: DeployCheck, *, json_output: bool, extra: Mapping[str, object]) -> None:
    if json_output:
        print_json({**extra, "check": result.to_dict()})
    else:
        show_check(result)
    if not result.passed:
        raise typer.Exit(1)


# -- Container Instances ---------------------------------------------------------------------
@aci_app.command("deploy")
def aci_deploy(
    image: ImageOption = None,
    model: Annotated[
        str | None,
        typer.Option(help="baseline, dynamic or a version (default: EMOTION_CLF_SERVE_MODEL)."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Group name (EMOTION_CLF_ACI_NAME).")] = None,
    dns_label: Annotated[
        str | None, typer.Option(help="DNS label (EMOTION_CLF_ACI_DNS_LABEL; default: name).")
    ] = None,
    env: EnvOption = None,
    dry_run: DryRunOption = False,
    out: OutOption = None,
    check: CheckOption = True,
    json_output: JsonOption = False,
) -> None:
    """Create or replace a container group running the API, print its address, then run
    the health check against it (exit 1 if it fails). Plain HTTP: a dev/test target (serve
    production from Container Apps or a managed online endpoint, both HTTPS)."""
    settings = get_settings()
    spec = spec_from(settings, image=image, model=model, env=env)
    name = name or settings.aci.name
    options = {
        "location": settings.azure.location,
        "dns_label": dns_label or settings.aci.dns_label or name,
        "restart_policy": settings.aci.restart_policy,
        "dns_scope": settings.aci.dns_scope,
    }
    if dry_run:
        group = aci.build_container_group(spec, reveal_secrets=False, **options)
        path = dry_run_file(settings, out, "containergroup.json", aci.dry_run_body(group))
        if json_output:
            print_json({"dry_run": str(path), "name": name, "image": spec.image})
        return
    target = azure_target(settings)
    group = aci.build_container_group(spec, reveal_secrets=True, **options)
    client = aci.client(target)
    created = aci.deploy(client, resource_group=target.resource_group, name=name, group=group)
    url = aci.address(created, spec.port)
    if url is None:
        raise ConfigError(f"container group {name} was created but has no public address yet")
    info(f"container group {name} serves {spec.model} at {url} (plain HTTP: dev/test only)")
    if not check:
        if json_output:
            print_json({"name": name, "url": url})
        return
    result = check_deployed(
        url, token=refresh_token(settings), ready_timeout_s=settings.containers.ready_timeout_s
    )
    finish_check(result, json_output=json_output, extra={"name": name, "url": url})


@aci_app.command("status")
def aci_status(
    name: Annotated[str | None, typer.Option(help="Group name (EMOTION_CLF_ACI_NAME).")] = None,
    json_output: JsonOption = False,
) -> None:
    """The group's state, image, model, address, restarts and latest events."""
    settings = get_settings()
    target = azure_target(settings)
    state = aci.status(
        aci.client(target),
        resource_group=target.resource_group,
        name=name or settings.aci.name,
        port=settings.containers.port,
    )
    if json_output:
        print_json(state.to_dict())
    else:
        show_aci_status(state)


@aci_app.command("delete")
def aci_delete(
    name: Annotated[str | None, typer.Option(help="Group name (EMOTION_CLF_ACI_NAME).")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete the container group (its address goes with it)."""
    settings = get_settings()
    name = name or settings.aci.name
    target = azure_target(settings)
    if not yes:
        typer.confirm(f"delete container group {name} in {target.resource_group}?", abort=True)
    aci.delete(aci.client(target), resource_group=target.resource_group, name=name)
    info(f"deleted container group {name}")


# -- Container Apps --------------------------------------------------------------------------
@aca_app.command("deploy")
def aca_deploy(
    version: Annotated[str, typer.Option(help="The model version the new revision serves.")],
    image: ImageOption = None,
    env: EnvOption = None,
    dry_run: DryRunOption = False,
    out: OutOption = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="With --dry-run: plan as a first deployment, without reading the app."
        ),
    ] = False,
    check: CheckOption = True,
    json_output: JsonOption = False,
) -> None:
    """A new revision pinned to --version, labelled with the colour not serving, at 0%
    (100% if it is the app's first), then the health check on its label's address."""
    if offline and not dry_run:
        raise ConfigError("--offline goes with --dry-run (a deployment reads the app first)")
    settings = get_settings()
    spec = spec_from(settings, image=image, model=version, env=env)
    name = aca.check_app_name(settings.aca.name)
    target = azure_target(settings)
    environment = aca.environment_id(target, settings.aca.environment)
    client = None if offline else aca_live.client(target)
    current = (
        None
        if client is None
        else aca_live.read_app(client, resource_group=target.resource_group, name=name)
    )
    if offline:
        info("--offline: planned as the app's first deployment (the app was not read)")
    plan = aca.plan_deploy(
        aca.read_colours(current), app_name=name, suffix=aca.revision_suffix(spec)
    )
    location = current.location if current is not None else target.location

    def build(*, reveal_secrets: bool) -> Any:
        return aca.build_container_app(
            spec,
            plan=plan,
            location=location,
            environment=environment,
            min_replicas=settings.aca.min_replicas,
            max_replicas=settings.aca.max_replicas,
            concurrent_requests=settings.aca.concurrent_requests,
            reveal_secrets=reveal_secrets,
        )

    summary = {"app": name, "revision": plan.revision, "colour": plan.colour, "plan": plan.message}
    if dry_run:
        app: Any = build(reveal_secrets=False)
        if current is not None:  # what the PUT would carry: the live app, patched
            kept = [s.name for s in current.configuration.secrets or []]
            app = aca.onto_live(current, app, secret_values={n: "<kept>" for n in kept})
        path = dry_run_file(settings, out, "containerapp.json", app.as_dict())
        info(plan.message)
        if json_output:
            print_json({**summary, "dry_run": str(path)})
        return
    assert client is not None
    app = build(reveal_secrets=True)
    deployed = aca_live.deploy(
        client, resource_group=target.resource_group, name=name, app=app, live=current
    )
    info(plan.message)
    fqdn = aca_live.app_fqdn(deployed)
    if not check or not fqdn:
        if json_output:
            print_json(summary)
        return
    url = f"https://{aca.label_fqdn(fqdn, name, plan.colour)}"
    result = check_deployed(
        url, token=refresh_token(settings), ready_timeout_s=settings.containers.ready_timeout_s
    )
    if not result.passed and plan.serving is not None:
        warn(f"{plan.revision} failed its check; it serves no traffic ({plan.serving} does)")
    finish_check(result, json_output=json_output, extra=summary)


def live_target(settings: Settings) -> aca_live.ContainerAppTarget:
    target = azure_target(settings)
    return aca_live.target_for(
        aca_live.client(target),
        resource_group=target.resource_group,
        name=aca.check_app_name(settings.aca.name),
        token=refresh_token(settings),
        ready_timeout_s=settings.containers.ready_timeout_s,
    )


@aca_app.command("promote")
def aca_promote(
    to: ColourOption = None,
    steps: Annotated[
        str | None,
        typer.Option(help="Percentages, e.g. 10,50,100 (EMOTION_CLF_ACA_TRAFFIC_STEPS)."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Shift traffic to the colour at 0% (or --to) in steps, health-checking it at each;
    a failed check moves every request back (exit 1)."""
    settings = get_settings()
    chosen = parse_steps(steps or settings.aca.traffic_steps)
    app = live_target(settings)
    old, new = aca.plan_promotion(app.colours, to=to)
    info(f"shifting {settings.aca.name} from {old} to {new} in steps {chosen}")
    result = roll_out(app, old=old, new=new, steps=chosen)
    if json_output:
        print_json(result.to_dict())
    else:
        show_rollout(result)
    if not result.ok:
        raise typer.Exit(1)


@aca_app.command("rollback")
def aca_rollback(to: ColourOption = None, json_output: JsonOption = False) -> None:
    """Every request back to the older revision's colour (or --to) at once."""
    settings = get_settings()
    app = live_target(settings)
    created = aca_live.created_times(
        app.aca, resource_group=app.resource_group, name=app.name, colours=app.colours
    )
    back, other = aca.plan_rollback(app.colours, to=to, created=created)
    weights = roll_back(app, to=back, other=other)
    if json_output:
        print_json({"to": back, "weights": dict(weights)})
    else:
        info(f"{back} serves 100% again ({app.colours.revisions[back]}); {other} 0%")


@aca_app.command("status")
def aca_status(json_output: JsonOption = False) -> None:
    """The app's address, which revision each colour labels, weights and revisions."""
    settings = get_settings()
    target = azure_target(settings)
    state = aca_live.status(
        aca_live.client(target),
        resource_group=target.resource_group,
        name=aca.check_app_name(settings.aca.name),
    )
    if state is None:
        raise ConfigError(f"Container App {settings.aca.name!r} does not exist yet; aca deploy")
    if json_output:
        print_json(state.to_dict())
    else:
        show_aca_status(state)

"""What every container deployment shares: the image, its resources, its environment and
secrets, and the check of a deployed server.

A :class:`ContainerSpec` is built once from settings (:func:`container_spec`, which the CLI
calls) and becomes an Azure Container Instances group (:mod:`.aci`) or a Container App
(:mod:`.aca`). Secrets stay apart from plain variables: a real deploy sends them as secure
variables (ACI) or Container Apps secrets referenced by name; a dry run writes a placeholder
reference in their place (``<secret:EMOTION_CLF_REFRESH_TOKEN>``); nothing logs them.

The container fetches its model from the registry at start-up, so the registry it is given
must be one it can reach: :func:`container_tracking_uri` refuses this machine's SQLite store.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from emotion_clf.checks.health import HealthReport, check_health
from emotion_clf.config import Settings
from emotion_clf.errors import ConfigError

logger = logging.getLogger(__name__)

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DESIGNATIONS = ("baseline", "dynamic")
SECRET_HINT = re.compile(r"(TOKEN|PASSWORD|SECRET|KEY)", re.IGNORECASE)


@dataclass(frozen=True)
class SecretVar:
    """A secret the container reads from its environment.

    ``env`` is the variable, ``name`` the Container Apps secret it is stored as, ``source``
    the setting it came from (named in the placeholder a dry run writes).
    """

    env: str
    name: str
    source: str
    value: SecretStr = field(repr=False)

    @property
    def placeholder(self) -> str:
        return f"<secret:{self.source}>"

    def content(self, *, reveal: bool) -> str:
        """The value to send (``reveal``) or the placeholder a dry run writes."""
        return self.value.get_secret_value() if reveal else self.placeholder


@dataclass(frozen=True)
class RegistryLogin:
    """How to pull the image from a private registry: a managed identity (an Azure Container
    Registry), or a user and pull token (a registry outside Azure)."""

    server: str
    identity: str | None = None  # "system" or a user-assigned identity's resource id
    username: str | None = None
    password: SecretVar | None = None


@dataclass(frozen=True)
class ContainerSpec:
    """One container running ``emotion-clf serve``."""

    image: str
    cpu: float
    memory_gb: float
    port: int
    model: str  # what the server serves: baseline, dynamic or a pinned version
    env: Mapping[str, str]  # plain variables, shown in dry runs as they are
    secrets: tuple[SecretVar, ...] = ()
    registry: RegistryLogin | None = None
    identity: str | None = None  # the managed identity the container runs as

    @property
    def user_assigned(self) -> str | None:
        """The user-assigned identity's resource id, or None (none, or the system one)."""
        return self.identity if self.identity and self.identity != "system" else None

    @property
    def secret_names(self) -> tuple[str, ...]:
        return tuple(s.env for s in self.secrets)


def registry_host(image: str) -> str | None:
    """``myacr.azurecr.io/emotion-clf:1`` -> ``myacr.azurecr.io``; None for Docker Hub names."""
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


def container_tracking_uri(*, explicit: str | None, tracking_uri: str | None) -> str:
    """The registry URI a container gets: ``explicit``, else this machine's if it is remote.

    A container cannot read this machine's SQLite store or files, so those are refused with
    the setting to use instead.
    """
    uri = explicit or tracking_uri
    hint = (
        "set EMOTION_CLF_CONTAINER_TRACKING_URI to a registry the containers can reach "
        "(an MLflow server, http(s)://...)"
    )
    if not uri:
        raise ConfigError(f"the containers need a model registry they can reach: {hint}")
    if uri.startswith(("sqlite:", "file:", "/", ".")) or "://" not in uri:
        raise ConfigError(f"tracking URI {uri!r} is local to this machine; {hint}")
    return uri


def check_model_ref(model: str) -> str:
    """``baseline``, ``dynamic`` or a version number."""
    if model in DESIGNATIONS or model.isdigit():
        return model
    raise ConfigError(f"model {model!r}: use baseline, dynamic or a version number")


def parse_env(values: Sequence[str]) -> dict[str, str]:
    """``["NAME=VALUE", ...]`` -> a dict; refuses names that look like secrets."""
    env: dict[str, str] = {}
    for value in values:
        name, sep, content = value.partition("=")
        if not sep or not ENV_NAME.match(name):
            raise ConfigError(f"--env {value!r}: write it as NAME=VALUE")
        if SECRET_HINT.search(name):
            raise ConfigError(
                f"--env {name}: secrets do not go in plain variables (they would show in the "
                "deployment and in dry runs); the refresh token, registry password and "
                "tracking token have their own settings"
            )
        env[name] = content
    return env


def container_spec(
    settings: Settings,
    *,
    image: str | None = None,
    model: str | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> ContainerSpec:
    """The container the settings describe (``EMOTION_CLF_CONTAINER_*``), for either service."""
    image = image or settings.containers.image
    if not image:
        raise ConfigError("no image: pass --image or set EMOTION_CLF_CONTAINER_IMAGE")
    if settings.containers.cpu <= 0 or settings.containers.memory_gb <= 0:
        raise ConfigError("EMOTION_CLF_CONTAINER_CPU and _MEMORY_GB must be positive")
    if not 0 < settings.containers.port < 65536:
        raise ConfigError(f"EMOTION_CLF_CONTAINER_PORT {settings.containers.port} is no port")
    model = check_model_ref(model or settings.serving.serve_model)
    env = {
        "EMOTION_CLF_TRACKING_URI": container_tracking_uri(
            explicit=settings.containers.tracking_uri, tracking_uri=settings.registry.tracking_uri
        ),
        "EMOTION_CLF_MODEL_NAME": settings.registry.model_name,
        "EMOTION_CLF_SERVE_MODEL": model,
        "EMOTION_CLF_SERVE_HOST": "0.0.0.0",
        "EMOTION_CLF_SERVE_PORT": str(settings.containers.port),
        "EMOTION_CLF_REFRESH_ENDPOINTS": "",  # a server does not fan out
    }
    secrets = []
    if settings.promotion.refresh_token is not None:
        secrets.append(
            SecretVar(
                "EMOTION_CLF_REFRESH_TOKEN",
                "refresh-token",
                "EMOTION_CLF_REFRESH_TOKEN",
                settings.promotion.refresh_token,
            )
        )
    if settings.containers.tracking_token is not None:
        secrets.append(
            SecretVar(
                "MLFLOW_TRACKING_TOKEN",
                "tracking-token",
                "EMOTION_CLF_CONTAINER_TRACKING_TOKEN",
                settings.containers.tracking_token,
            )
        )
    clash = set(extra_env or {}) & ({s.env for s in secrets} | set(env))
    if clash:
        raise ConfigError(f"--env cannot set {', '.join(sorted(clash))}: a setting does")
    identity = check_identity(settings.containers.identity)
    if settings.containers.identity_client_id:
        if identity is None or identity == "system":
            raise ConfigError(
                "EMOTION_CLF_CONTAINER_IDENTITY_CLIENT_ID names a user-assigned identity: set "
                "EMOTION_CLF_CONTAINER_IDENTITY to its resource id too"
            )
        env["AZURE_CLIENT_ID"] = settings.containers.identity_client_id
    registry = registry_login(settings, image, identity)
    return ContainerSpec(
        image=image,
        cpu=settings.containers.cpu,
        memory_gb=settings.containers.memory_gb,
        port=settings.containers.port,
        model=model,
        env={**env, **(extra_env or {})},
        secrets=tuple(secrets),
        registry=registry,
        identity=identity,
    )


USER_ASSIGNED = re.compile(
    r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/"
    r"microsoft\.managedidentity/userassignedidentities/[^/]+$",
    re.IGNORECASE,
)


def check_identity(identity: str | None) -> str | None:
    """``system``, a user-assigned identity's resource id, or None."""
    if identity is None or identity == "system" or USER_ASSIGNED.match(identity):
        return identity
    raise ConfigError(
        f"EMOTION_CLF_CONTAINER_IDENTITY {identity!r}: 'system', or a user-assigned identity's "
        "resource id (/subscriptions/.../providers/Microsoft.ManagedIdentity/"
        "userAssignedIdentities/NAME)"
    )


def registry_login(settings: Settings, image: str, identity: str | None) -> RegistryLogin | None:
    """How the image is pulled: with the containers' managed identity from an Azure
    Container Registry, with a user and token from a registry outside Azure, or (a public
    image) without credentials."""
    containers = settings.containers
    server = containers.registry_server or registry_host(image)
    if containers.registry_username or containers.registry_password:
        if identity is not None and server and server.endswith(".azurecr.io"):
            raise ConfigError(
                f"{server} is pulled with EMOTION_CLF_CONTAINER_IDENTITY; unset "
                "EMOTION_CLF_CONTAINER_REGISTRY_USERNAME and _PASSWORD (no admin password)"
            )
        if not (server and containers.registry_username and containers.registry_password):
            raise ConfigError(
                "a registry outside Azure needs EMOTION_CLF_CONTAINER_REGISTRY_USERNAME and "
                "_PASSWORD (a pull token), and a server (EMOTION_CLF_CONTAINER_REGISTRY_SERVER "
                "or the image's host)"
            )
        return RegistryLogin(
            server=server,
            username=containers.registry_username,
            password=SecretVar(
                "",
                "registry-password",
                "EMOTION_CLF_CONTAINER_REGISTRY_PASSWORD",
                containers.registry_password,
            ),
        )
    if server and server.endswith(".azurecr.io") and identity is not None:
        return RegistryLogin(server=server, identity=identity)
    if server and server.endswith(".azurecr.io"):
        logger.warning(
            "the image is in %s but no EMOTION_CLF_CONTAINER_IDENTITY is set: the pull works "
            "only if the registry allows anonymous pulls",
            server,
        )
    return None


# -- after a deploy: wait until ready, then the monitoring health check ----------------------
@dataclass(frozen=True)
class DeployCheck:
    """Whether a deployed server came up and passed the health check."""

    url: str
    ready: bool
    waited_s: float
    detail: str
    health: HealthReport | None = None

    @property
    def passed(self) -> bool:
        return self.ready and self.health is not None and self.health.passed

    @property
    def summary(self) -> str:
        if not self.ready:
            return f"not ready after {self.waited_s:.0f} s: {self.detail}"
        assert self.health is not None
        total, failed = len(self.health.results), len(self.health.failures)
        if not failed:
            return f"{total} scenarios passed"
        first = self.health.failures[0]
        return f"{failed} of {total} scenarios failed (first: {first.name}: {first.detail})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "ready": self.ready,
            "waited_s": round(self.waited_s, 1),
            "passed": self.passed,
            "summary": self.summary,
            "health": self.health.to_dict() if self.health is not None else None,
        }


def wait_ready(
    url: str, *, timeout_s: float, interval_s: float = 5.0, request_timeout_s: float = 10.0
) -> tuple[bool, float, str]:
    """Poll ``GET /ready`` until it answers 200: (ready, seconds waited, last answer)."""
    started = time.monotonic()
    detail = "no answer yet"
    while True:
        try:
            response = httpx.get(url.rstrip("/") + "/ready", timeout=request_timeout_s)
            if response.status_code == 200:
                return True, time.monotonic() - started, "ready"
            detail = f"/ready answered {response.status_code}: {response.text[:160]}"
        except httpx.HTTPError as exc:
            detail = f"no answer: {type(exc).__name__}: {exc}"
        waited = time.monotonic() - started
        if waited + interval_s > timeout_s:
            return False, waited, detail
        time.sleep(interval_s)


def check_deployed(
    url: str,
    *,
    token: str | None,
    ready_timeout_s: float,
    interval_s: float = 5.0,
    headers: Mapping[str, str] | None = None,
) -> DeployCheck:
    """Wait for ``url`` to be ready, then run every health-check scenario against it."""
    ready, waited, detail = wait_ready(url, timeout_s=ready_timeout_s, interval_s=interval_s)
    if not ready:
        return DeployCheck(url, False, waited, detail)
    return DeployCheck(url, True, waited, detail, check_health(url, token=token, headers=headers))

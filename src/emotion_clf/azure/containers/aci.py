"""Azure Container Instances: one container group running the API server.

:func:`build_container_group` turns a :class:`~.containers.ContainerSpec` into the SDK's
``ContainerGroup`` (public IP with a DNS label, the port, CPU and memory, probes on
``/health`` and ``/ready``, plain and secure environment variables, the restart policy,
registry credentials); :func:`dry_run_body` is what ``--dry-run`` writes
(``ContainerGroup.serialize()`` with placeholders for secrets). The functions taking a
``client`` call Azure (``azure-mgmt-containerinstance``); nothing else here does.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from emotion_clf.azure.containers.spec import ContainerSpec
from emotion_clf.azure.sdk import AzureTarget, credential, require
from emotion_clf.errors import ConfigError

logger = logging.getLogger(__name__)

MODELS = "azure.mgmt.containerinstance.models"
RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_LABEL = re.compile(r"^[a-z][a-z0-9-]{1,61}[a-z0-9]$")
CONTAINER = "api"


def check_dns_label(label: str) -> str:
    """3-63 lower-case letters, digits and hyphens, starting with a letter (Azure's rule)."""
    if not DNS_LABEL.match(label):
        raise ConfigError(
            f"DNS label {label!r}: 3-63 lower-case letters, digits and hyphens, "
            "starting with a letter and not ending with a hyphen"
        )
    return label


def build_container_group(
    spec: ContainerSpec,
    *,
    location: str,
    dns_label: str,
    restart_policy: str = "Always",
    dns_scope: str = "TenantReuse",
    reveal_secrets: bool,
) -> Any:
    """The ``ContainerGroup`` to create; secrets as placeholders unless ``reveal_secrets``."""
    if restart_policy not in RESTART_POLICIES:
        raise ConfigError(
            f"restart policy {restart_policy!r}: one of {', '.join(RESTART_POLICIES)}"
        )
    m = require(MODELS)
    env = [m.EnvironmentVariable(name=k, value=v) for k, v in spec.env.items()]
    env += [
        m.EnvironmentVariable(name=s.env, secure_value=s.content(reveal=reveal_secrets))
        for s in spec.secrets
    ]
    # start-up fetches and verifies the model: liveness waits long enough for that, while
    # readiness keeps traffic away until /ready answers 200
    liveness = m.ContainerProbe(
        http_get=m.ContainerHttpGet(path="/health", port=spec.port, scheme="http"),
        initial_delay_seconds=60,
        period_seconds=30,
        failure_threshold=5,
        timeout_seconds=5,
    )
    readiness = m.ContainerProbe(
        http_get=m.ContainerHttpGet(path="/ready", port=spec.port, scheme="http"),
        initial_delay_seconds=10,
        period_seconds=10,
        failure_threshold=3,
        timeout_seconds=5,
    )
    container = m.Container(
        name=CONTAINER,
        image=spec.image,
        resources=m.ResourceRequirements(
            requests=m.ResourceRequests(cpu=spec.cpu, memory_in_gb=spec.memory_gb)
        ),
        ports=[m.ContainerPort(port=spec.port, protocol="TCP")],
        environment_variables=env,
        liveness_probe=liveness,
        readiness_probe=readiness,
    )
    credentials = None
    login = spec.registry
    if spec.identity is not None and spec.user_assigned is None:
        raise ConfigError(
            "Container Instances pull images and sign in with a user-assigned identity: set "
            "EMOTION_CLF_CONTAINER_IDENTITY to its resource id (not 'system')"
        )
    if login is not None and login.identity is not None:  # AcrPull for the identity
        credentials = [m.ImageRegistryCredential(server=login.server, identity=login.identity)]
    elif login is not None and login.password is not None:  # a registry outside Azure
        credentials = [
            m.ImageRegistryCredential(
                server=login.server,
                username=login.username,
                password=login.password.content(reveal=reveal_secrets),
            )
        ]
    identity = None
    if spec.user_assigned is not None:
        identity = m.ContainerGroupIdentity(
            type="UserAssigned",
            user_assigned_identities={spec.user_assigned: m.UserAssignedIdentities()},
        )
    return m.ContainerGroup(
        location=location,
        os_type="Linux",
        restart_policy=restart_policy,
        containers=[container],
        ip_address=m.IpAddress(
            type="Public",
            ports=[m.Port(port=spec.port, protocol="TCP")],
            dns_name_label=check_dns_label(dns_label),
            auto_generated_domain_name_label_scope=dns_scope,
        ),
        image_registry_credentials=credentials,
        identity=identity,
        tags={"app": "emotion-clf", "model": spec.model},
    )


def dry_run_body(group: Any) -> dict[str, Any]:
    """What would be sent: the group's REST body (``ContainerGroup.serialize()``)."""
    body: dict[str, Any] = group.serialize()
    return body


def load_body(body: dict[str, Any]) -> Any:
    """A dry run's body back as a ``ContainerGroup`` (``ContainerGroup.deserialize``)."""
    return require(MODELS).ContainerGroup.deserialize(body)


def address(group: Any, port: int) -> str | None:
    """``http://FQDN:PORT`` (or the IP) of a created group; None before it has one."""
    ip = group.ip_address
    host = ip.fqdn or ip.ip if ip is not None else None
    return f"http://{host}:{port}" if host else None


# -- Azure calls -----------------------------------------------------------------------------
def client(target: AzureTarget) -> Any:
    sdk = require("azure.mgmt.containerinstance")
    return sdk.ContainerInstanceManagementClient(credential(), target.subscription_id)


def deploy(aci: Any, *, resource_group: str, name: str, group: Any) -> Any:
    """Create or replace the group and wait for Azure to finish; the group as Azure has it."""
    logger.info("creating container group %s in %s", name, resource_group)
    return aci.container_groups.begin_create_or_update(resource_group, name, group).result()


@dataclass(frozen=True)
class AciStatus:
    name: str
    provisioning_state: str | None
    state: str | None  # the instance view: Running, Stopped, ...
    image: str | None
    model: str | None
    address: str | None
    restarts: int | None
    events: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "provisioning_state": self.provisioning_state,
            "state": self.state,
            "image": self.image,
            "model": self.model,
            "address": self.address,
            "restarts": self.restarts,
            "events": list(self.events),
        }


def describe(group: Any, *, name: str, port: int) -> AciStatus:
    """The status of a group Azure returned (pure: reads the SDK object)."""
    container = group.containers[0] if group.containers else None
    view = getattr(container, "instance_view", None)
    events = tuple(
        f"{e.last_timestamp or ''} {e.name}: {e.message}".strip()
        for e in (getattr(view, "events", None) or [])[-5:]
    )
    state = getattr(getattr(view, "current_state", None), "state", None)
    group_state = getattr(group.instance_view, "state", None) if group.instance_view else None
    return AciStatus(
        name=name,
        provisioning_state=group.provisioning_state,
        state=state or group_state,
        image=container.image if container else None,
        model=(group.tags or {}).get("model"),
        address=address(group, port),
        restarts=getattr(view, "restart_count", None),
        events=events,
    )


def status(aci: Any, *, resource_group: str, name: str, port: int) -> AciStatus:
    return describe(aci.container_groups.get(resource_group, name), name=name, port=port)


def delete(aci: Any, *, resource_group: str, name: str) -> None:
    logger.info("deleting container group %s in %s", name, resource_group)
    aci.container_groups.begin_delete(resource_group, name).result()

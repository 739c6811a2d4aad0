"""A fake ``MLClient`` for online endpoints: it keeps the real ``ManagedOnlineEndpoint`` /
``ManagedOnlineDeployment`` entities it is given (serialised through the SDK's own REST
models), records every traffic split, and can fail any one of its calls.

:class:`Faults` numbers every call the rollout makes to Azure; ``fail_at=(index, kind)``
makes that call fail the way Azure fails:

- ``conflict``: a 409 "operation in progress" before anything changes;
- ``throttle``: a 429 before anything changes;
- ``network``: the request never arrived (``ServiceRequestError``);
- ``auth``: the token expired mid-rollout (``ClientAuthenticationError``);
- ``lost-answer``: the change was made but the answer was lost (``ServiceResponseError``
  from the poller's ``result()``, after the write) - the worst case for a rollout, because
  the caller cannot tell what the endpoint now serves.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from azure.ai.ml.entities import ManagedOnlineDeployment, ManagedOnlineEndpoint

KINDS = ("conflict", "throttle", "network", "auth", "lost-answer")
ENDPOINTS = (
    "/subscriptions/0/resourceGroups/rg/providers/Microsoft.MachineLearningServices/"
    "workspaces/ws/onlineEndpoints"
)


def azure_error(kind: str, call: str) -> Exception:
    from azure.core import exceptions as ex

    if kind == "conflict":
        return ex.HttpResponseError(f"(Conflict) an operation is in progress ({call})")
    if kind == "throttle":
        return ex.HttpResponseError(f"(TooManyRequests) retry after 30 s ({call})")
    if kind == "network":
        return ex.ServiceRequestError(f"connection reset ({call})")
    if kind == "auth":
        return ex.ClientAuthenticationError(f"the access token expired ({call})")
    if kind == "lost-answer":
        return ex.ServiceResponseError(f"the connection closed before the answer ({call})")
    raise ValueError(kind)


@dataclass
class Faults:
    """Every Azure call in order; the one at ``fail_at[0]`` fails as ``fail_at[1]``."""

    fail_at: tuple[int, str] | None = None
    calls: list[str] = field(default_factory=list)

    def call(self, name: str, apply: Callable[[], Any]) -> Any:
        """Run ``apply`` (the call's effect) unless this call fails before it."""
        index = len(self.calls)
        self.calls.append(name)
        if self.fail_at is None or self.fail_at[0] != index:
            return apply()
        kind = self.fail_at[1]
        if kind == "lost-answer":
            apply()  # the change happened; the caller never hears so
        raise azure_error(kind, name)


class Done:
    def __init__(self, value: Any = None) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value


def not_found(what: str) -> Exception:
    from azure.core.exceptions import ResourceNotFoundError

    return ResourceNotFoundError(f"{what} not found")


class Endpoints:
    def __init__(self, scoring_uri: str, faults: Faults) -> None:
        self.scoring_uri = scoring_uri
        self.faults = faults
        self.stored: dict[str, ManagedOnlineEndpoint] = {}
        self.traffic: list[dict[str, int]] = []  # every split it was told to set

    def get(self, name: str) -> ManagedOnlineEndpoint:
        def apply() -> ManagedOnlineEndpoint:
            if name not in self.stored:
                raise not_found(f"endpoint {name}")
            return copy.deepcopy(self.stored[name])

        return self.faults.call("online_endpoints.get", apply)

    def begin_create_or_update(self, entity: ManagedOnlineEndpoint) -> Done:
        assert isinstance(entity, ManagedOnlineEndpoint)

        def apply() -> Done:
            stored = copy.deepcopy(entity)
            stored._scoring_uri = self.scoring_uri  # what the service fills in (read-only)
            if entity.name in self.stored and entity.traffic != self.stored[entity.name].traffic:
                assert sum(entity.traffic.values()) == 100, entity.traffic
                self.traffic.append(dict(entity.traffic))
            self.stored[entity.name] = stored
            return Done(copy.deepcopy(stored))

        return self.faults.call("online_endpoints.begin_create_or_update", apply)

    def get_keys(self, name: str) -> Any:
        return self.faults.call(
            "online_endpoints.get_keys", lambda: type("Keys", (), {"primary_key": "key-1"})()
        )


class Deployments:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.stored: dict[str, ManagedOnlineDeployment] = {}
        self.deleted: list[str] = []

    def begin_create_or_update(self, entity: ManagedOnlineDeployment) -> Done:
        assert isinstance(entity, ManagedOnlineDeployment)
        entity._to_rest_object(location="westeurope")  # the SDK's own serialisation accepts it

        def apply() -> Done:
            self.stored[entity.name] = copy.deepcopy(entity)
            return Done(entity)

        return self.faults.call("online_deployments.begin_create_or_update", apply)

    def get(self, name: str, endpoint_name: str) -> ManagedOnlineDeployment:
        def apply() -> ManagedOnlineDeployment:
            if name not in self.stored:
                raise not_found(f"deployment {name}")
            found = copy.deepcopy(self.stored[name])
            found._id = f"{ENDPOINTS}/{endpoint_name}/deployments/{name}"  # Azure's ARM id
            return found

        return self.faults.call("online_deployments.get", apply)

    def list(self, endpoint_name: str) -> list[ManagedOnlineDeployment]:
        return self.faults.call(
            "online_deployments.list",
            lambda: [d for d in self.stored.values() if d.endpoint_name == endpoint_name],
        )

    def begin_delete(self, name: str, endpoint_name: str) -> Done:
        def apply() -> Done:
            del self.stored[name]
            self.deleted.append(name)
            return Done()

        return self.faults.call("online_deployments.begin_delete", apply)


class Environments:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.created: list[str] = []

    def create_or_update(self, entity: Any) -> Any:
        def apply() -> Any:
            self.created.append(entity.name)
            return entity

        return self.faults.call("environments.create_or_update", apply)


@dataclass
class FakeMlClient:
    online_endpoints: Endpoints
    online_deployments: Deployments
    environments: Environments
    faults: Faults

    @classmethod
    def make(cls, scoring_uri: str = "http://127.0.0.1:9/score") -> FakeMlClient:
        faults = Faults()
        return cls(
            Endpoints(scoring_uri, faults), Deployments(faults), Environments(faults), faults
        )

    def live(self, endpoint: str) -> dict[str, int]:
        """The colours carrying live traffic now, as the fake service holds them."""
        entity = self.online_endpoints.stored[endpoint]
        return {c: int(w) for c, w in (entity.traffic or {}).items() if int(w) > 0}

    def version_of(self, colour: str) -> str | None:
        deployment = self.online_deployments.stored.get(colour)
        return str(deployment.model).rsplit(":", 1)[1] if deployment else None

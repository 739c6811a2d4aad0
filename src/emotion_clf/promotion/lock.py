"""A registry-wide promotion lock, so two promotions at once cannot interleave.

MLflow offers no compare-and-swap on aliases, but creating a registered model is atomic on
every backend (the name is unique). The lock is therefore a registered model named
``<model>.promotion-lock``, created to acquire and deleted to release. A lock older than its
time-to-live is taken to belong to a killed process and is broken with a warning;
``emotion-clf registry unlock`` breaks it at once.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from emotion_clf.errors import PromotionConflictError
from emotion_clf.registry.store import Registry, mlflow_errors

logger = logging.getLogger(__name__)


class PromotionLock:
    def __init__(self, registry: Registry, *, ttl_s: float, holder: str) -> None:
        self.registry = registry
        self.ttl_s = ttl_s
        self.holder = holder
        self.name = f"{registry.model_name}.promotion-lock"
        self.audit_id: str | None = None

    def _try_create(self) -> bool:
        from mlflow.exceptions import MlflowException

        tags = {
            "holder": self.holder,
            "pid": str(os.getpid()),
            "host": socket.gethostname(),
            "acquired_at": str(time.time()),
        }
        with mlflow_errors("taking the promotion lock"):
            try:
                self.registry.client.create_registered_model(
                    self.name,
                    tags=tags,
                    description="Held while emotion-clf promotes or rolls back; "
                    "`emotion-clf registry unlock` removes a stale one.",
                )
            except MlflowException as exc:
                if exc.error_code == "RESOURCE_ALREADY_EXISTS":
                    return False
                raise
        return True

    def current(self) -> dict[str, str] | None:
        """The tags of the lock now held, or None."""
        from mlflow.exceptions import MlflowException

        with mlflow_errors("reading the promotion lock"):
            try:
                model = self.registry.client.get_registered_model(self.name)
            except MlflowException as exc:
                if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                    return None
                raise
        return dict(model.tags or {})

    def acquire(self) -> None:
        if self._try_create():
            return
        held = self.current() or {}
        age = time.time() - float(held.get("acquired_at", time.time()))
        if age > self.ttl_s:
            logger.warning(
                "breaking a promotion lock held for %.0fs by %s (older than %.0fs)",
                age,
                held.get("holder"),
                self.ttl_s,
            )
            self.force_release()
            if self._try_create():
                return
            held = self.current() or {}
        raise PromotionConflictError(
            f"another promotion is in progress (held by {held.get('holder', '?')} "
            f"pid {held.get('pid', '?')} on {held.get('host', '?')}); nothing was changed. "
            "Try again when it finishes; if that process is gone, "
            "run `emotion-clf registry unlock`."
        )

    def set_audit_id(self, audit_id: str) -> None:
        self.audit_id = audit_id
        with mlflow_errors("updating the promotion lock"):
            self.registry.client.set_registered_model_tag(self.name, "audit_id", audit_id)

    def release(self) -> None:
        held = self.current()
        if held is not None and held.get("holder") == self.holder:
            self.force_release()

    def force_release(self) -> bool:
        from mlflow.exceptions import MlflowException

        with mlflow_errors("removing the promotion lock"):
            try:
                self.registry.client.delete_registered_model(self.name)
            except MlflowException as exc:
                if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                    return False
                raise
        return True

    def __enter__(self) -> PromotionLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


@contextmanager
def promotion_lock(registry: Registry, *, ttl_s: float, holder: str) -> Iterator[PromotionLock]:
    lock = PromotionLock(registry, ttl_s=ttl_s, holder=holder)
    with lock:
        yield lock

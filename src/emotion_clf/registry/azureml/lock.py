"""The promotion lock on the Azure ML backend: a lease on one blob in the workspace's storage.

Blob leases are the storage service's own mutual exclusion: of several ``acquire`` calls on a
blob exactly one gets the lease, the others get 409 ``LeaseAlreadyPresent``. A lease lasts
``lease_s`` seconds (15-60) and the holder renews it from a background thread, so a killed
process loses the lock by itself within ``lease_s``; no ticket is left behind.

While it holds the lease, the holder writes who it is into the blob (holder, pid, host, when,
the lease id and the audit entry it is writing); ``lock_state`` reads that back, and a release
clears it. A holder alive but older than the time-to-live (a hung promotion) is taken over,
not broken blindly: the contender changes *the lease id it read* to its own. If a newer holder
took the lease meanwhile, its id differs, the change fails and the contender backs off, so a
fresh holder is never robbed. ``emotion-clf registry unlock`` breaks the lease at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from emotion_clf.errors import RegistryError
from emotion_clf.registry.azureml.calls import (
    azure_errors,
    error_code,
    read_json,
    sdk,
    write_json,
)
from emotion_clf.registry.base import LockState, PromotionLock, lock_conflict

logger = logging.getLogger(__name__)

_HELD = ("leased",)
_TAKEN = {"LeaseAlreadyPresent"}
_LOST = {
    "LeaseIdMismatchWithLeaseOperation",
    "LeaseIdMismatchWithBlobOperation",
    "LeaseNotPresentWithLeaseOperation",
    "LeaseNotPresentWithBlobOperation",
    "LeaseLost",
    "LeaseIsBrokenAndCannotBeRenewed",
    "LeaseIsBreakingAndCannotBeChanged",
    "LeaseIsBreakingAndCannotBeAcquired",
}


def _state(doc: dict[str, Any]) -> LockState | None:
    if not doc.get("holder"):
        return None
    try:
        acquired_at = float(doc.get("acquired_at", 0))
    except (TypeError, ValueError):
        acquired_at = 0.0
    return LockState(
        holder=str(doc["holder"]),
        pid=str(doc.get("pid", "?")),
        host=str(doc.get("host", "?")),
        acquired_at=acquired_at,
        audit_id=doc.get("audit_id") or None,
    )


class LeaseBlob:
    """The lock's blob: created on first use, never deleted."""

    def __init__(self, blob: Any) -> None:
        self.blob = blob

    def ensure(self) -> None:
        write_json(self.blob, {}, action="creating the promotion lock", create=True)

    def leased(self) -> bool:
        exceptions = sdk("azure.core.exceptions")
        with azure_errors("reading the promotion lock"):
            try:
                properties = self.blob.get_blob_properties()
            except exceptions.ResourceNotFoundError:
                return False
        return str(properties.lease.state) in _HELD

    def document(self) -> dict[str, Any]:
        return read_json(self.blob, action="reading the promotion lock")[0]

    def state(self) -> LockState | None:
        """The holder, or None when no lease is held (a dead holder's note is ignored)."""
        return _state(self.document()) if self.leased() else None

    def lease(self, lease_id: str) -> Any:
        return sdk("azure.storage.blob").BlobLeaseClient(self.blob, lease_id=lease_id)

    def break_now(self) -> bool:
        if not self.leased():
            return False
        with azure_errors("breaking the promotion lock"):
            self.lease(str(uuid.uuid4())).break_lease(lease_break_period=0)
        return True


class BlobLeaseLock(PromotionLock):
    def __init__(self, blob: LeaseBlob, *, ttl_s: float, holder: str, lease_s: int) -> None:
        super().__init__(ttl_s=ttl_s, holder=holder)
        self.blob = blob
        self.lease_s = lease_s
        self._lease: Any = None
        self._note: dict[str, Any] = {}
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self) -> None:
        exceptions = sdk("azure.core.exceptions")
        self.blob.ensure()
        lease_id = str(uuid.uuid4())
        lease = self.blob.lease(lease_id)
        with azure_errors("taking the promotion lock"):
            try:
                lease.acquire(lease_duration=self.lease_s)
            except exceptions.HttpResponseError as exc:
                if error_code(exc) not in _TAKEN:
                    raise
                self._take_over_if_stale(lease_id)
        self._lease = lease
        self._note = {
            "holder": self.holder,
            "pid": str(os.getpid()),
            "host": socket.gethostname(),
            "acquired_at": repr(time.time()),
            "lease_id": lease_id,
        }
        self._write_note()
        self._stop.clear()
        self._renewer = threading.Thread(
            target=self._renew, name="promotion-lock-renewal", daemon=True
        )
        self._renewer.start()

    def _take_over_if_stale(self, lease_id: str) -> None:
        """The lease is held: take it over if its holder is older than the time-to-live."""
        exceptions = sdk("azure.core.exceptions")
        doc = self.blob.document()
        held = _state(doc)
        if held is None or held.age_s() <= self.ttl_s or not doc.get("lease_id"):
            raise lock_conflict(held)
        try:
            self.blob.lease(str(doc["lease_id"])).change(proposed_lease_id=lease_id)
        except exceptions.HttpResponseError as exc:  # a newer holder: not stale after all
            logger.info("the promotion lock changed hands while being taken over: %s", exc)
            raise lock_conflict(self.blob.state()) from exc
        logger.warning(
            "took over a promotion lock held for %.0fs by %s (older than %.0fs)",
            held.age_s(),
            held.describe(),
            self.ttl_s,
        )

    def _write_note(self) -> None:
        if not write_json(
            self.blob.blob, self._note, action="recording the promotion lock", lease=self._lease
        ):
            raise RegistryError("recording the promotion lock: the lock blob changed unexpectedly")

    def _renew(self) -> None:
        exceptions = sdk("azure.core.exceptions")
        while not self._stop.wait(self.lease_s / 3):
            try:
                self._lease.renew()
            except exceptions.AzureError as exc:
                logger.warning(
                    "the promotion lock held by %s could not be renewed and will lapse: %s",
                    self.holder,
                    exc,
                )
                return

    def _stop_renewing(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=10)
            self._renewer = None

    def release(self) -> None:
        if self._lease is None:
            return
        exceptions = sdk("azure.core.exceptions")
        self._stop_renewing()
        try:
            with azure_errors("releasing the promotion lock"):
                try:  # clear the note first, so no reader sees a holder that has gone
                    self.blob.blob.upload_blob(b"{}", overwrite=True, lease=self._lease)
                    self._lease.release()
                except exceptions.HttpResponseError as exc:
                    if error_code(exc) not in _LOST:
                        raise
                    logger.warning(
                        "the promotion lock was broken while %s held it (%s)",
                        self.holder,
                        error_code(exc),
                    )
        finally:
            self._lease = None

    def set_audit_id(self, audit_id: str) -> None:
        if self._lease is None:
            raise RuntimeError("set_audit_id needs the lock to be held")
        self._note["audit_id"] = audit_id
        self._write_note()

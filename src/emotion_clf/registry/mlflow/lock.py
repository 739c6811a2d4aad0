"""The promotion lock on an MLflow registry, built from model versions.

MLflow offers no compare-and-swap on aliases, and some MLflow registries (Azure ML's among
them) cannot delete a whole registered model, so the lock is a queue of *tickets*: model
versions of a registered model named ``<model>.promotion-lock`` (created once, never
deleted). Version numbers are handed out atomically and in order, so to acquire:

1. create a ticket (a new version, tagged with holder, pid, host and time);
2. list the live tickets: the lowest number holds the lock. A ticket older than the
   time-to-live belongs to a killed process and is deleted with a warning first;
3. if the lowest is ours, we hold the lock; otherwise delete ours and fail, naming the holder.

A ticket created before ours is always visible when we list (its number was taken first), so
of two contenders exactly one sees its own ticket lowest. Releasing deletes the ticket;
``emotion-clf registry unlock`` deletes them all. Only create, search and delete of model
versions and their tags are used. A model version needs a source that the tracking server
accepts: every ticket points at the (empty) artifact folder of one run, the lock's anchor, in
the ``<experiment>-promotion-lock`` experiment.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emotion_clf.registry.base import LockState, PromotionLock, lock_conflict
from emotion_clf.registry.mlflow.calls import deleted, ensure_model, mlflow_errors

if TYPE_CHECKING:
    from mlflow import MlflowClient

logger = logging.getLogger(__name__)

ANCHOR_TAG = "emotion_clf.role"
ANCHOR_ROLE = "promotion-lock"


@dataclass(frozen=True)
class Ticket:
    version: int
    state: LockState


def _ticket(mv: Any) -> Ticket:
    tags = dict(mv.tags or {})
    try:
        acquired_at = float(tags.get("acquired_at", ""))
    except ValueError:
        acquired_at = (mv.creation_timestamp or 0) / 1000
    return Ticket(
        version=int(mv.version),
        state=LockState(
            holder=tags.get("holder", "?"),
            pid=tags.get("pid", "?"),
            host=tags.get("host", "?"),
            acquired_at=acquired_at,
            audit_id=tags.get("audit_id") or None,
        ),
    )


class Tickets:
    """The tickets of one lock: the versions of the registered model ``name``.

    ``anchor_experiment`` gives the id of the experiment holding the anchor run.
    """

    def __init__(
        self, client: MlflowClient, *, name: str, anchor_experiment: Callable[[], str]
    ) -> None:
        self.client = client
        self.name = name
        self._anchor_experiment = anchor_experiment

    def live(self) -> list[Ticket]:
        """The live tickets, lowest (the holder) first; empty when nobody holds the lock."""
        with mlflow_errors("reading the promotion lock"):
            found = self.client.search_model_versions(f"name='{self.name}'")
        return sorted((_ticket(mv) for mv in found), key=lambda t: t.version)

    def create(self, tags: dict[str, str]) -> int:
        ensure_model(
            self.client,
            self.name,
            description="Tickets of the emotion-clf promotion lock (one version per "
            "contender); `emotion-clf registry unlock` removes a stale one.",
        )
        run_id, source = self._anchor()
        with mlflow_errors("taking the promotion lock"):
            mv = self.client.create_model_version(
                self.name, source=source, run_id=run_id, tags=tags
            )
        return int(mv.version)

    def tag(self, version: int, key: str, value: str) -> None:
        with mlflow_errors("updating the promotion lock"):
            self.client.set_model_version_tag(self.name, str(version), key, value)

    def delete(self, version: int) -> bool:
        return deleted(
            "removing a promotion lock ticket",
            lambda: self.client.delete_model_version(self.name, str(version)),
        )

    def delete_all(self) -> int:
        """Delete every ticket; how many there were."""
        return sum(self.delete(t.version) for t in self.live())

    def _anchor(self) -> tuple[str, str]:
        """``(run_id, source)`` every ticket points at, the run created on first use.

        Two processes creating it at once make two anchors; either serves, and the next
        search finds one of them.
        """
        experiment = self._anchor_experiment()
        with mlflow_errors("reading the promotion lock"):
            found = self.client.search_runs(
                [experiment],
                filter_string=f"tags.`{ANCHOR_TAG}` = '{ANCHOR_ROLE}'",
                order_by=["attributes.start_time ASC"],
                max_results=1,
            )
            if found:
                run = found[0]
            else:
                run = self.client.create_run(
                    experiment, run_name="promotion-lock", tags={ANCHOR_TAG: ANCHOR_ROLE}
                )
                self.client.set_terminated(run.info.run_id)
        return str(run.info.run_id), f"{run.info.artifact_uri}/tickets"


class MlflowTicketLock(PromotionLock):
    def __init__(self, tickets: Tickets, *, ttl_s: float, holder: str) -> None:
        super().__init__(ttl_s=ttl_s, holder=holder)
        self.tickets = tickets
        self.ticket: int | None = None

    def acquire(self) -> None:
        mine = self.tickets.create(
            {
                "holder": self.holder,
                "pid": str(os.getpid()),
                "host": socket.gethostname(),
                "acquired_at": repr(time.time()),
            }
        )
        try:
            holder = self._holder(mine)
        except BaseException:
            # a registry error after the ticket was made must not leave it to block everyone
            # until it expires; if this delete fails too, the ticket expires after the TTL
            with contextlib.suppress(Exception):
                self.tickets.delete(mine)
            raise
        if holder is not None and holder.version == mine:
            self.ticket = mine
            return
        self.tickets.delete(mine)
        raise lock_conflict(holder.state if holder is not None else None)

    def _holder(self, mine: int) -> Ticket | None:
        """The lowest live ticket, after deleting expired tickets older than ``mine``."""
        now = time.time()
        live = []
        for ticket in self.tickets.live():
            if ticket.version < mine and ticket.state.age_s(now) > self.ttl_s:
                logger.warning(
                    "breaking a promotion lock held for %.0fs by %s (older than %.0fs)",
                    ticket.state.age_s(now),
                    ticket.state.describe(),
                    self.ttl_s,
                )
                self.tickets.delete(ticket.version)
            else:
                live.append(ticket)
        return live[0] if live else None

    def release(self) -> None:
        if self.ticket is None:
            return
        if not self.tickets.delete(self.ticket):
            logger.warning("the promotion lock was broken while %s held it", self.holder)
        self.ticket = None

    def set_audit_id(self, audit_id: str) -> None:
        if self.ticket is None:
            raise RuntimeError("set_audit_id needs the lock to be held")
        self.tickets.tag(self.ticket, "audit_id", audit_id)

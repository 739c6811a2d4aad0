"""The registry's one face: what every backend (MLflow today, Azure ML next) implements.

A backend keeps one registered model and offers, each with typed results:

- **versions**: every registered bundle as a :class:`VersionInfo`;
- **designations**: ``baseline`` (blue, in production) and ``dynamic`` (green, the newest
  candidate), read with :meth:`ModelRegistry.designations` and moved with
  :meth:`ModelRegistry.set_designation`, a compare-and-set;
- **fetch**: :meth:`ModelRegistry.download` of a version's bundle (the verified, cached fetch
  built on it is :func:`emotion_clf.registry.fetch_model`);
- **registration** of a training result or a bundle folder as a new version;
- a **promotion lock** (:class:`PromotionLock`) and an **audit store** (:class:`AuditStore`),
  both kept in the registry itself so that every machine sees the same ones.

Nothing outside :mod:`emotion_clf.registry` talks to a model store directly.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal

from emotion_clf.errors import ModelNotFoundError, PromotionConflictError

if TYPE_CHECKING:
    from emotion_clf.training import TrainResult

DESIGNATIONS: tuple[str, ...] = ("baseline", "dynamic")
METRIC_PREFIX = "metric."  # a headline metric's own tag, shown in the registry's list
METRICS_TAG = "metrics"  # every metric of a version, one JSON object


class _Any(Enum):
    ANY = "any"


#: ``set_designation(..., expected=ANY)``: move the designation whatever it points at now
ANY: Final = _Any.ANY
Expected = str | None | Literal[_Any.ANY]


def check_designation(designation: str) -> str:
    if designation not in DESIGNATIONS:
        raise ModelNotFoundError(
            f"unknown designation {designation!r}; designations: {', '.join(DESIGNATIONS)}"
        )
    return designation


@dataclass(frozen=True)
class VersionInfo:
    """One registered version and what the registry knows of it."""

    version: str
    designations: tuple[str, ...]
    created_at: str
    source: str
    run_id: str | None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> str | None:
        return self.tags.get("digest")

    @property
    def family(self) -> str | None:
        return self.tags.get("family")

    @property
    def metrics(self) -> dict[str, float]:
        """Every metric (``<split>.<head>.<name>``): the :data:`METRICS_TAG` JSON object,
        then the ``metric.*`` tags (a version registered before that tag had them all)."""
        out = {}
        try:
            every = json.loads(self.tags.get(METRICS_TAG, "{}"))
        except json.JSONDecodeError:
            every = {}  # a hand-edited tag; the headline tags are still read below
        if isinstance(every, dict):
            out.update({str(k): float(v) for k, v in every.items() if isinstance(v, int | float)})
        for key, value in self.tags.items():
            if key.startswith(METRIC_PREFIX):
                try:
                    out[key[len(METRIC_PREFIX) :]] = float(value)
                except ValueError:
                    continue  # a hand-edited tag; the rest are still useful
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": int(self.version),
            "designations": list(self.designations),
            "created_at": self.created_at,
            "family": self.family,
            "digest": self.digest,
            "data_fingerprint": self.tags.get("data_fingerprint"),
            "run_id": self.run_id,
            "source": self.source,
            "metrics": self.metrics,
        }


def holding(versions: Sequence[VersionInfo], shown: int = 10) -> str:
    """What a registry holds, for an error about a version it does not: the newest
    ``shown`` versions with their designations."""
    if not versions:
        return "it holds no version yet (train with --register)"
    newest = sorted(versions, key=lambda v: int(v.version), reverse=True)
    named = [
        f"{v.version} ({', '.join(v.designations)})" if v.designations else v.version
        for v in newest[:shown]
    ]
    more = f" and {len(newest) - shown} older" if len(newest) > shown else ""
    return f"it holds versions {', '.join(named)}{more}"


def trained_on_same_data(versions: Sequence[VersionInfo], manifest: Any) -> VersionInfo | None:
    """The newest version of ``manifest``'s family trained on the same data fingerprint, or
    None: registering the bundle again would add a version with nothing new in it."""
    same = [
        v
        for v in versions
        if v.family == manifest.family
        and v.tags.get("data_fingerprint") == manifest.data_fingerprint
    ]
    return max(same, key=lambda v: int(v.version)) if same else None


@dataclass(frozen=True)
class AuditEntry:
    """One promotion or rollback as the audit store recorded it."""

    id: str
    action: str
    from_version: str | None
    to_version: str
    at: str
    actor: str
    reason: str
    forced: bool
    gate: str
    status: str  # applied | failed | in progress | interrupted
    # what happened after the change, added by AuditStore.annotate (e.g. an endpoint rollout)
    notes: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "notes": dict(self.notes)}


@dataclass(frozen=True)
class LockState:
    """Who holds the promotion lock, since when, and the audit entry it is writing."""

    holder: str
    pid: str
    host: str
    acquired_at: float  # seconds since the epoch, the holder's clock
    audit_id: str | None = None

    def age_s(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.acquired_at

    def describe(self) -> str:
        return f"{self.holder} pid {self.pid} on {self.host}"


def lock_conflict(held: LockState | None) -> PromotionConflictError:
    who = held.describe() if held is not None else "another process"
    return PromotionConflictError(
        f"another promotion is in progress (held by {who}); nothing was changed. "
        "Try again when it finishes; if that process is gone, "
        "run `emotion-clf registry unlock`."
    )


class PromotionLock(ABC):
    """A registry-wide lock, so two promotions at once cannot interleave.

    A lock older than ``ttl_s`` is taken to belong to a killed process and is broken with a
    warning; :meth:`ModelRegistry.break_lock` breaks it at once.
    """

    def __init__(self, *, ttl_s: float, holder: str) -> None:
        self.ttl_s = ttl_s
        self.holder = holder

    @abstractmethod
    def acquire(self) -> None:
        """Take the lock or raise :class:`PromotionConflictError` naming the holder."""

    @abstractmethod
    def release(self) -> None:
        """Give the lock back (a no-op if it was broken meanwhile)."""

    @abstractmethod
    def set_audit_id(self, audit_id: str) -> None:
        """Record the audit entry this holder is writing (``registry history`` shows it)."""

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


class AuditStore(ABC):
    """The promotion audit log.

    An entry is opened *before* the designation moves and closed after, so a process killed
    in between leaves a visible ``interrupted`` entry rather than a silent gap.
    """

    @abstractmethod
    def start(
        self,
        *,
        action: str,
        from_version: str | None,
        to_version: str,
        actor: str,
        reason: str,
        forced: bool,
        gate: Mapping[str, Any] | None,
    ) -> str:
        """Open an entry; returns its id."""

    @abstractmethod
    def finish(self, entry_id: str, *, ok: bool, error: str | None = None) -> None:
        """Close an entry as applied (``ok``) or failed."""

    @abstractmethod
    def annotate(self, entry_id: str, key: str, value: str) -> None:
        """Add a note to an entry (finished or not): what followed the change, such as the
        outcome of an endpoint rollout. A second note with the same key replaces the first."""

    @abstractmethod
    def entries(self, *, limit: int = 200, lock_holder: str | None = None) -> list[AuditEntry]:
        """Newest first. ``lock_holder`` is the audit id of a promotion now holding the lock:
        its open entry is ``in progress``, any other open entry ``interrupted``."""

    def previous_baseline(self, current: str | None) -> str | None:
        """The baseline before ``current``: the from-version of the last applied change to it."""
        for entry in self.entries():
            if entry.status == "applied" and entry.to_version == current:
                return entry.from_version
        return None


class ModelRegistry(ABC):
    """One registered model in a model store: versions, designations, lock and audit."""

    model_name: str
    #: this registry's store did not exist and was created for it (see ``open_registry``)
    created: bool = False

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the registry lives, for messages (a URI without credentials)."""

    # -- versions and designations --------------------------------------------------------
    @abstractmethod
    def versions(self) -> list[VersionInfo]:
        """Every version, newest first; empty before the first registration."""

    @abstractmethod
    def version(self, version: str | int) -> VersionInfo:
        """One version; :class:`ModelNotFoundError` if there is none."""

    @abstractmethod
    def designations(self) -> dict[str, str]:
        """designation -> version; empty before the first registration."""

    @abstractmethod
    def set_designation(self, designation: str, version: str, *, expected: Expected = ANY) -> None:
        """Point ``designation`` at ``version`` if it still points at ``expected``.

        ``expected`` is the version the caller decided against (``None``: not set yet);
        if the designation moved meanwhile, :class:`DesignationConflictError` is raised and
        nothing changes. Atomic against other writers that hold the promotion lock.
        """

    def designated(self, designation: str) -> VersionInfo | None:
        """The version a designation points at, or None if it is not set yet."""
        version = self.designations().get(check_designation(designation))
        return self.version(version) if version is not None else None

    def resolve(self, ref: str) -> VersionInfo:
        """A designation or version number -> its version; raises if there is none."""
        if ref.isdigit():
            try:
                return self.version(ref)
            except ModelNotFoundError as exc:
                raise ModelNotFoundError(
                    f"version {ref} is not in the registry; {holding(self.versions())}",
                    detail=exc.detail,
                ) from exc
        info = self.designated(ref)
        if info is None:
            hint = "promote a version first" if ref == "baseline" else "train with --register"
            raise ModelNotFoundError(f"no version is designated {ref!r} yet ({hint})")
        return info

    # -- registration and fetch -------------------------------------------------------------
    @abstractmethod
    def register(self, result: TrainResult, *, designate: str | None = "dynamic") -> VersionInfo:
        """Record a training run (parameters, metrics, figures) and register its bundle."""

    @abstractmethod
    def register_bundle(self, bundle: Path, *, designate: str | None = "dynamic") -> VersionInfo:
        """Register a bundle folder as it is (its manifest's metrics), with no training run."""

    @abstractmethod
    def download(self, info: VersionInfo, dest: Path) -> Path:
        """Download a version's bundle into ``dest`` (a new folder); returns the bundle."""

    def link_report(self, version: str, page: str) -> bool:
        """Add ``page`` (the published training report) to ``version``'s model card;
        whether this backend did (this default keeps no description to add to)."""
        return False

    # -- judgements of versions ---------------------------------------------------------------
    def log_judgement(
        self,
        kind: str,
        *,
        judged: Mapping[str, str],
        metrics: Mapping[str, float],
        params: Mapping[str, str] | None = None,
        artifacts: Sequence[Path] = (),
    ) -> str | None:
        """Record a judgement of registered versions (``kind``: compare, drift,
        performance) as a run linked to them (``judged``: role -> version); its run id, or
        None where the backend keeps no such runs (this default)."""
        return None

    # -- promotion lock and audit --------------------------------------------------------------
    @abstractmethod
    def promotion_lock(self, *, ttl_s: float, holder: str) -> PromotionLock:
        """A lock object (not yet taken) for one promotion."""

    @abstractmethod
    def lock_state(self) -> LockState | None:
        """Who holds the promotion lock now, or None."""

    @abstractmethod
    def break_lock(self) -> bool:
        """Remove the promotion lock whoever holds it; True if there was one."""

    @property
    @abstractmethod
    def audit(self) -> AuditStore:
        """The promotion audit log of this registry."""

"""Resolving a registry reference to a local, verified bundle (cache first)."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from emotion_clf.config import Settings
from emotion_clf.errors import (
    BundleError,
    RegistryError,
    RegistryStoreError,
    RegistryUnavailableError,
)
from emotion_clf.models.base import Predictor
from emotion_clf.models.bundle import VerifiedBundle, load_bundle, read_manifest
from emotion_clf.registry.backends import open_registry
from emotion_clf.registry.base import ModelRegistry, VersionInfo
from emotion_clf.registry.cache import ModelCache

logger = logging.getLogger(__name__)

# "loading model v3 (baseline, minilm)": a load takes 12-15 s for minilm, which without a word
# looks like a hang. These lines go to stderr whatever the logging set-up (a notebook has
# none), never to stdout, where --json output goes; quiet when the root logger is set above
# warning (the CLI's --log-level error).
STATUS_LOGGER = "emotion_clf.status"


class _StderrHandler(logging.StreamHandler):
    """Plain lines on the ``sys.stderr`` of the moment (a notebook kernel, or pytest's
    capture, replaces it after this module is imported)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def _not_quieted(record: logging.LogRecord) -> bool:
    """Shown unless the root logger was set above warning (``--log-level error``)."""
    return logging.getLogger().level <= logging.WARNING


status = logging.getLogger(STATUS_LOGGER)
if not status.handlers:
    _handler = _StderrHandler()
    _handler.setFormatter(logging.Formatter("%(message)s"))
    _handler.addFilter(_not_quieted)
    status.addHandler(_handler)
    status.setLevel(logging.INFO)
    status.propagate = False


@dataclass(frozen=True)
class ResolvedModel:
    """A local, verified bundle folder and where it came from."""

    path: Path
    ref: str
    version: str | None = None  # registry version, None for a plain path
    designation: str | None = None
    digest: str | None = None  # the registry's record of the bundle digest
    offline: bool = False  # the registry was unreachable; this is the last cached copy
    offline_reason: str | None = None  # why the registry was not used, when offline
    runtime_cache: Path | None = None  # where the loaded model keeps what it derives
    # the cache's check of the bundle: the load takes it while no file has changed since
    verified: VerifiedBundle | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        if self.version is None:
            return str(self.path)
        return f"v{self.version}" + (f" ({self.designation})" if self.designation else "")

    def load(self) -> Predictor:
        """The predictor, checked against the registry's digest: every file hashed, once
        (:class:`~emotion_clf.models.bundle.VerifiedBundle`). Says on stderr which model
        loads, and how long it took (:data:`STATUS_LOGGER`)."""
        status.info("loading model %s", self.describe())
        started = time.perf_counter()
        predictor = load_bundle(
            self.path,
            expected_digest=self.digest,
            runtime_cache=self.runtime_cache,
            verified=self.verified,
        )
        took = time.perf_counter() - started
        if took >= 1.0:  # a quick load needs no second line
            status.info("loaded model %s in %.1f s", self.short_label, took)
        return predictor

    @property
    def short_label(self) -> str:
        return str(self.path) if self.version is None else f"v{self.version}"

    def describe(self) -> str:
        """``v3 (baseline, minilm)``, ``v3 (minilm)`` or ``<folder> (tfidf)``."""
        try:
            family = read_manifest(self.path).family
        except BundleError:  # load_bundle says what is wrong with it, in its own words
            family = "unreadable bundle"
        return f"{self.short_label} ({', '.join(filter(None, (self.designation, family)))})"


def fetch_version(registry: ModelRegistry, cache: ModelCache, info: VersionInfo) -> ResolvedModel:
    """The local bundle of a registry version, downloading it into the cache if needed."""
    if not info.digest:
        raise RegistryError(
            f"version {info.version} has no digest tag; it was not registered by emotion-clf"
        )
    verified = cache.checked(info.version, info.digest)
    if verified is None:
        verified = cache.put_checked(
            info.version, info.digest, lambda dest: registry.download(info, dest)
        )
    return ResolvedModel(
        path=verified.folder,
        ref=info.version,
        version=info.version,
        digest=info.digest,
        verified=verified,
    )


def cached_model(
    ref: str, *, settings: Settings, reason: str = "the registry is unreachable"
) -> ResolvedModel | None:
    """The last bundle this machine fetched for ``ref``, verified (``offline=True``, with
    ``reason`` saying why the registry's was not used), if any."""
    cached = ModelCache(settings.cache_dir).last_known(ref)
    if cached is None:
        return None
    return ResolvedModel(
        path=cached.path,
        ref=ref,
        version=cached.version,
        designation=None if ref.isdigit() else ref,
        digest=cached.digest,
        offline=True,
        offline_reason=reason,
        runtime_cache=settings.runtime_cache_dir,
        verified=cached.verified,
    )


def quick_cached(ref: str, *, settings: Settings, cache: ModelCache) -> ResolvedModel | None:
    """``ref`` from an embedded SQLite store read without MLflow, when the cache already holds
    that version's exact digest (:mod:`~emotion_clf.registry.mlflow.quick`); None otherwise."""
    if settings.registry.backend != "mlflow":
        return None
    from emotion_clf.registry.mlflow.quick import known_revision, read_version
    from emotion_clf.registry.mlflow.readonly import sqlite_path

    store = sqlite_path(settings.registry.registry_uri or settings.resolved_tracking_uri)
    revision = known_revision(settings.home / ".cache")
    if store is None or revision is None:
        return None
    info = read_version(store, settings.registry.model_name, ref, revision=revision)
    if info is None or not info.digest:
        return None
    verified = cache.checked(info.version, info.digest)
    if verified is None:
        return None
    designation = None if ref.isdigit() else ref
    if designation is not None:
        cache.remember(designation, info.version, info.digest)
    return ResolvedModel(
        path=verified.folder,
        ref=ref,
        version=info.version,
        designation=designation,
        digest=info.digest,
        runtime_cache=settings.runtime_cache_dir,
        verified=verified,
    )


def fetch_model(
    ref: str,
    *,
    settings: Settings,
    registry: ModelRegistry | None = None,
    read_only: bool = False,
) -> ResolvedModel:
    """Resolve ``baseline`` / ``dynamic`` / a version number to a verified local bundle.

    When the registry cannot be reached, the last bundle this machine fetched for ``ref`` is
    used instead and the result says so (``offline=True``); with no cached copy the
    :class:`RegistryUnavailableError` stands. ``read_only`` opens the registry as a server
    does (see :func:`~emotion_clf.registry.open_registry`).
    """
    cache = ModelCache(settings.cache_dir)
    designation = None if ref.isdigit() else ref
    if read_only and registry is None:
        quick = quick_cached(ref, settings=settings, cache=cache)
        if quick is not None:
            return quick
    try:
        registry = registry or open_registry(settings, read_only=read_only)
        info = registry.resolve(ref)
        resolved = fetch_version(registry, cache, info)
    except RegistryUnavailableError as exc:
        why = exc.message if isinstance(exc, RegistryStoreError) else "the registry is unreachable"
        cached = cached_model(ref, settings=settings, reason=why)
        if cached is None:
            raise RegistryUnavailableError(
                f"no cached copy of {ref!r} on this machine, and {exc.message}",
                detail=exc.detail,
                where=exc.where,
            ) from exc
        logger.warning(
            "registry unreachable (%s); using cached version %s for %r",
            f"{exc.message}: {exc.where}" if exc.where else exc.message,
            cached.version,
            ref,
        )
        logger.debug("the registry's own words: %s", exc.detail)
        return cached
    if designation is not None:
        cache.remember(designation, info.version, resolved.digest or "")
    return ResolvedModel(
        path=resolved.path,
        ref=ref,
        version=info.version,
        designation=designation,
        digest=resolved.digest,
        runtime_cache=settings.runtime_cache_dir,
        verified=resolved.verified,
    )

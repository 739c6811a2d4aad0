"""The model registry: the only package that talks to a model store.

- :class:`ModelRegistry` is the face every backend implements (versions, designations with
  compare-and-set, fetch, registration, a promotion lock and an audit store);
  :func:`open_registry` opens the one the settings name (MLflow: an embedded SQLite store by
  default, or any tracking URI);
- :func:`resolve_model` turns a ``--model`` value (a bundle folder, ``baseline``, ``dynamic``
  or a version number) into a verified local bundle, through :class:`ModelCache` and
  :func:`fetch_model`, which falls back to the last cached copy when the registry is down;
- :class:`ModelSource` / :class:`RegistrySource`: what a server polls and loads from;
- :func:`record_judgement`: a comparison, drift check or performance report logged as a run
  linked to the versions it judged.
"""

from __future__ import annotations

from emotion_clf.registry.backends import open_registry
from emotion_clf.registry.base import (
    ANY,
    DESIGNATIONS,
    AuditEntry,
    AuditStore,
    LockState,
    ModelRegistry,
    PromotionLock,
    VersionInfo,
    trained_on_same_data,
)
from emotion_clf.registry.cache import ModelCache
from emotion_clf.registry.fetch import ResolvedModel, cached_model, fetch_model, fetch_version
from emotion_clf.registry.judgements import record_judgement
from emotion_clf.registry.resolve import is_registry_ref, resolve_model, teacher_source
from emotion_clf.registry.source import ModelSource, RegistrySource

__all__ = [
    "ANY",
    "DESIGNATIONS",
    "AuditEntry",
    "AuditStore",
    "LockState",
    "ModelCache",
    "ModelRegistry",
    "ModelSource",
    "PromotionLock",
    "RegistrySource",
    "ResolvedModel",
    "VersionInfo",
    "cached_model",
    "fetch_model",
    "fetch_version",
    "is_registry_ref",
    "open_registry",
    "record_judgement",
    "resolve_model",
    "teacher_source",
    "trained_on_same_data",
]

"""Logging a judgement of registered versions (a comparison, a drift check, a performance
report) to the registry, as a run linked to the versions it judged.

The judgement itself is already computed and saved (its JSON and HTML) when this runs, so a
registry that cannot take the run is said in a warning and the judgement stands: a drift
check must not fail because the registry was busy. Models given as bundle folders have no
version to link to, and nothing is logged for them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from emotion_clf.config import Settings
from emotion_clf.errors import RegistryError
from emotion_clf.registry.backends import open_registry
from emotion_clf.registry.fetch import ResolvedModel

logger = logging.getLogger(__name__)


def record_judgement(
    kind: str,
    judged: Mapping[str, ResolvedModel | None],
    *,
    settings: Settings,
    metrics: Mapping[str, float],
    params: Mapping[str, str] | None = None,
    artifacts: Sequence[Path] = (),
) -> str | None:
    """Log ``kind`` for the registered versions among ``judged`` (role -> model); the run's
    id, or None when no registered version was judged or the registry could not take it."""
    versions = {
        role: model.version
        for role, model in judged.items()
        if model is not None and model.version is not None
    }
    if not versions:
        return None
    try:
        registry = open_registry(settings, create=False)
        run_id = registry.log_judgement(
            kind, judged=versions, metrics=metrics, params=params, artifacts=artifacts
        )
    except RegistryError as exc:
        logger.warning("the %s result was saved but not logged to the registry: %s", kind, exc)
        return None
    if run_id:
        logger.info("logged the %s of %s as run %s", kind, versions, run_id)
    return run_id

"""What ``--model`` means: a bundle path, a designation (``baseline`` / ``dynamic``) or a
registry version number.

Paths are used as they are. Designations and versions are looked up in the registry and
fetched through the local cache (:func:`~emotion_clf.registry.fetch.fetch_model`). Resolving
only reads, so the registry is opened read-only: a store that is missing is an error (or the
cached copy), never a new empty registry.
"""

from __future__ import annotations

from pathlib import Path

from emotion_clf.config import Settings
from emotion_clf.errors import ModelNotFoundError
from emotion_clf.models.base import TeacherSource
from emotion_clf.models.bundle import bundle_digest
from emotion_clf.registry.base import DESIGNATIONS
from emotion_clf.registry.fetch import ResolvedModel, fetch_model


def is_registry_ref(ref: str) -> bool:
    return ref in DESIGNATIONS or ref.isdigit()


def resolve_model(ref: str, *, settings: Settings) -> ResolvedModel:
    """Turn a ``--model`` value into a local bundle folder.

    A reference that names an existing folder is a path, even if it is also spelled like a
    designation; otherwise ``baseline``, ``dynamic`` and version numbers go to the registry.
    """
    path = Path(ref).expanduser()
    if path.exists():
        return ResolvedModel(path=path, ref=ref, runtime_cache=settings.runtime_cache_dir)
    if is_registry_ref(ref):
        return fetch_model(ref, settings=settings, read_only=True)
    raise ModelNotFoundError(
        f"--model {ref!r} is neither a bundle folder nor a registry reference "
        f"({', '.join(DESIGNATIONS)} or a version number)"
    )


def teacher_source(ref: str, *, settings: Settings) -> TeacherSource:
    """The model that ``--teacher`` names (a bundle folder, ``baseline``, ``dynamic`` or a
    version), loaded, with its outputs cached under its digest in ``<home>/.cache``."""
    resolved = resolve_model(ref, settings=settings)
    return TeacherSource(
        predictor=resolved.load(),
        key=resolved.digest or bundle_digest(resolved.path),
        label=resolved.label,
        cache_dir=settings.teacher_outputs_dir,
    )

"""What ``--model`` means: a bundle path, a designation (``baseline`` / ``dynamic``) or a
registry version number.

Paths are used as they are. Designations and versions are looked up in the registry and
fetched through the local cache (see :mod:`emotion_clf.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emotion_clf.config import Settings
from emotion_clf.errors import ModelNotFoundError
from emotion_clf.models.base import Predictor
from emotion_clf.models.bundle import load_bundle

DESIGNATIONS: tuple[str, ...] = ("baseline", "dynamic")


@dataclass(frozen=True)
class ResolvedModel:
    """A local, verified bundle folder and where it came from."""

    path: Path
    ref: str
    version: str | None = None  # registry version, None for a plain path
    designation: str | None = None
    digest: str | None = None  # the registry's record of the bundle digest
    offline: bool = False  # the registry was unreachable; this is the last cached copy

    @property
    def label(self) -> str:
        if self.version is None:
            return str(self.path)
        return f"v{self.version}" + (f" ({self.designation})" if self.designation else "")

    def load(self) -> Predictor:
        return load_bundle(self.path, expected_digest=self.digest)


def is_registry_ref(ref: str) -> bool:
    return ref in DESIGNATIONS or ref.isdigit()


def resolve_model(ref: str, *, settings: Settings) -> ResolvedModel:
    """Turn a ``--model`` value into a local bundle folder.

    A reference that names an existing folder is a path, even if it is also spelled like a
    designation; otherwise ``baseline``, ``dynamic`` and version numbers go to the registry.
    """
    path = Path(ref).expanduser()
    if path.exists():
        return ResolvedModel(path=path, ref=ref)
    if is_registry_ref(ref):
        from emotion_clf.registry.fetch import fetch_model  # MLflow is slow to import

        return fetch_model(ref, settings=settings)
    raise ModelNotFoundError(
        f"--model {ref!r} is neither a bundle folder nor a registry reference "
        f"({', '.join(DESIGNATIONS)} or a version number)"
    )

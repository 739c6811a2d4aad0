"""Where a server gets its model: a designation in the registry, read and fetched on demand.

The server's model holder knows only :class:`ModelSource`; this module's
:class:`RegistrySource` is the one that reads the registry. It keeps one registry client
between polls and builds a fresh one after an error (a restarted server, a dropped
connection).
"""

from __future__ import annotations

from typing import Protocol

from emotion_clf.config import Settings
from emotion_clf.errors import EmotionClfError
from emotion_clf.registry.backends import open_registry
from emotion_clf.registry.base import ModelRegistry, check_designation
from emotion_clf.registry.fetch import ResolvedModel, fetch_model


class ModelSource(Protocol):
    """What a server needs of the registry. Both methods block; call them off the loop."""

    designation: str

    def designated_version(self) -> str | None:
        """The version the designation points at now (None: not set yet).

        Raises :class:`~emotion_clf.errors.RegistryUnavailableError` when the registry
        cannot be reached.
        """
        ...

    def fetch(self) -> ResolvedModel:
        """The designated version as a verified local bundle; the last cached copy
        (``offline=True``) when the registry cannot be reached."""
        ...


class RegistrySource:
    """A :class:`ModelSource` on the registry ``settings`` name.

    ``designation`` may also be a version number: the source is then pinned to that version
    (a container revision serves the one version it was deployed with), so polls and
    ``/refresh-model`` keep it whatever the designations say.
    """

    def __init__(self, settings: Settings, *, designation: str = "baseline") -> None:
        self.settings = settings
        self.designation = designation if designation.isdigit() else check_designation(designation)
        self._registry: ModelRegistry | None = None

    def _open(self) -> ModelRegistry:
        if self._registry is None:
            self._registry = open_registry(self.settings)
        return self._registry

    def designated_version(self) -> str | None:
        if self.designation.isdigit():
            return self.designation  # pinned
        try:
            return self._open().designations().get(self.designation)
        except EmotionClfError:
            self._registry = None  # build a fresh client next time
            raise

    def fetch(self) -> ResolvedModel:
        # with no client yet, fetch_model opens one (or falls back to the cache)
        return fetch_model(self.designation, settings=self.settings, registry=self._registry)

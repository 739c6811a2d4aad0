"""Settings: one :class:`Settings` object in typed sections (:mod:`.sections`), read from
``EMOTION_CLF_*`` variables and ``.env`` by :func:`get_settings`; :func:`settings_reference`
renders every variable as the docs' reference page."""

from __future__ import annotations

from emotion_clf.config.cloud import (
    AcaSettings,
    AciSettings,
    AzureMlSettings,
    AzureSettings,
    ContainerSettings,
)
from emotion_clf.config.reference import settings_reference
from emotion_clf.config.sections import (
    BatchSettings,
    CommaList,
    DriftSettings,
    GateSettings,
    MediaSettings,
    PromotionSettings,
    RegistrySettings,
    Section,
    ServingSettings,
)
from emotion_clf.config.settings import (
    MIN_REFRESH_TOKEN_CHARS,
    SECTIONS,
    Settings,
    get_settings,
    project_root,
    route,
)

__all__ = [
    "MIN_REFRESH_TOKEN_CHARS",
    "SECTIONS",
    "AcaSettings",
    "AciSettings",
    "AzureMlSettings",
    "AzureSettings",
    "BatchSettings",
    "CommaList",
    "ContainerSettings",
    "DriftSettings",
    "GateSettings",
    "MediaSettings",
    "PromotionSettings",
    "RegistrySettings",
    "Section",
    "ServingSettings",
    "Settings",
    "get_settings",
    "project_root",
    "route",
    "settings_reference",
]

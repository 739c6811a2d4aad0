"""One settings object for the whole project, in typed sections.

Only entry points (the CLI, a notebook's parameters cell, FastAPI dependencies) read settings;
below them, code takes its section (``settings.serving``, ``settings.gate``, ...) or explicit
keyword arguments.

Every variable keeps the flat name users set (``EMOTION_CLF_POLL_S``,
``EMOTION_CLF_GATE_ALPHA``): :func:`route` files each flat name into its section, for the
environment, the ``.env`` file and keyword arguments alike, so ``Settings(home=..., poll_s=0)``
works as the environment would. Every path the tools write lives under ``home``
(``EMOTION_CLF_HOME``, default: the project folder), so a user or a test can point a whole run
somewhere else with one variable.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from emotion_clf.config.cloud import (
    AcaSettings,
    AciSettings,
    AzureMlSettings,
    AzureSettings,
    ContainerSettings,
)
from emotion_clf.config.sections import (
    BatchSettings,
    DriftSettings,
    GateSettings,
    MediaSettings,
    PromotionSettings,
    RegistrySettings,
    Section,
    ServingSettings,
)
from emotion_clf.errors import ConfigError

PREFIX = "EMOTION_CLF_"
ENV_FILE = ".env"
_PLACEHOLDER_SECRETS = {"changeme", "change-me", "changethis", "secret", "token", "dev"}
MIN_REFRESH_TOKEN_CHARS = 32  # what a server accepts: guessing 32 random characters is hopeless

SECTIONS: dict[str, type[Section]] = {
    "registry": RegistrySettings,
    "gate": GateSettings,
    "promotion": PromotionSettings,
    "serving": ServingSettings,
    "media": MediaSettings,
    "batch": BatchSettings,
    "drift": DriftSettings,
    "azure": AzureSettings,
    "azureml": AzureMlSettings,
    "containers": ContainerSettings,
    "aci": AciSettings,
    "aca": AcaSettings,
}


def project_root() -> Path:
    """The source checkout this package runs from, or the working directory if installed."""
    candidate = Path(__file__).resolve().parents[3]
    if (candidate / "pyproject.toml").is_file() and (candidate / "src" / "emotion_clf").is_dir():
        return candidate
    return Path.cwd()


def env_name(section: type[Section] | None, name: str, info: FieldInfo) -> str:
    """A field's variable, without ``EMOTION_CLF_``."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    explicit = extra.get("env")
    if isinstance(explicit, str):
        return explicit
    return ((section.ENV_PREFIX if section else "") + name).upper()


def legacy_names(info: FieldInfo) -> tuple[list[str], float]:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    names = extra.get("legacy") or []
    scale = extra.get("legacy_scale", 1.0)
    return [str(n) for n in names] if isinstance(names, list) else [], float(scale)  # type: ignore[arg-type]


def _flat_names() -> dict[str, tuple[str | None, str, float, bool]]:
    """flat name (lower case) -> (section or None, field, scale, legacy?)."""
    table: dict[str, tuple[str | None, str, float, bool]] = {}
    owners: list[tuple[str | None, type[Section] | None, Mapping[str, FieldInfo]]] = [
        (None, None, {k: v for k, v in Settings.model_fields.items() if k not in SECTIONS})
    ]
    owners += [(key, cls, cls.model_fields) for key, cls in SECTIONS.items()]
    for key, cls, fields in owners:
        for name, info in fields.items():
            table[env_name(cls, name, info).lower()] = (key, name, 1.0, False)
            legacy, scale = legacy_names(info)
            for old in legacy:
                table[old.lower()] = (key, name, scale, True)
    return table


def route(values: Mapping[str, Any], *, strict: bool) -> dict[str, Any]:
    """Flat names (``poll_s``, ``gate_alpha``, legacy ones) filed into their sections.

    Section keys already nested (``serving={...}``) pass through. An unknown name is an
    error when ``strict`` (keyword arguments), and ignored otherwise (the environment holds
    variables of other tools). A legacy name yields to its new name.
    """
    table = _flat_names()
    out: dict[str, Any] = {}
    late: list[tuple[str | None, str, Any]] = []  # legacy values, applied only where unset
    for key, value in values.items():
        lower = key.lower()
        if lower in SECTIONS and not isinstance(value, str):
            section = out.setdefault(lower, {})
            if isinstance(value, Mapping) and isinstance(section, dict):
                section.update(value)
            else:
                out[lower] = value
            continue
        found = table.get(lower)
        if found is None:
            if strict:
                raise ConfigError(f"unknown setting {key!r}")
            continue
        section_key, name, scale, legacy = found
        if scale != 1.0:
            # a value that is not a number is left as it is: the field's validation names it
            with contextlib.suppress(TypeError, ValueError):
                value = float(value) * scale
        if legacy:
            late.append((section_key, name, value))
        elif section_key is None:
            out[name] = value
        else:
            out.setdefault(section_key, {})[name] = value
    for section_key, name, value in late:
        target = out if section_key is None else out.setdefault(section_key, {})
        if isinstance(target, dict):
            target.setdefault(name, value)
    return out


class _FlatSource(PydanticBaseSettingsSource):
    """``EMOTION_CLF_*`` variables of the environment (or of the ``.env`` file), routed."""

    def __init__(self, settings_cls: type[BaseSettings], *, dotenv: bool) -> None:
        super().__init__(settings_cls)
        self.dotenv = dotenv

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads everything at once

    def __call__(self) -> dict[str, Any]:
        if self.dotenv:
            path = Path(ENV_FILE)
            raw: Mapping[str, str | None] = dotenv_values(path) if path.is_file() else {}
        else:
            raw = os.environ
        flat = {
            name[len(PREFIX) :]: value
            for name, value in raw.items()
            if value is not None and name.upper().startswith(PREFIX)
        }
        return route(flat, strict=False)


class _RoutedInit(PydanticBaseSettingsSource):
    """Keyword arguments, filed into sections before they meet the environment's values (so
    that a flat or older name given as an argument still wins)."""

    def __init__(self, settings_cls: type[BaseSettings], init: PydanticBaseSettingsSource):
        super().__init__(settings_cls)
        self.init = init

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return route(self.init(), strict=True)


class Settings(BaseSettings):
    """Settings read from ``EMOTION_CLF_*`` environment variables and a ``.env`` file."""

    model_config = SettingsConfigDict(extra="forbid", validate_default=True)

    home: Path = Field(
        default_factory=project_root,
        description="Workspace folder: everything the tools write lives under it",
    )
    data_dir: Path | None = Field(
        default=None, description="Labelled CSV batches (default: <project>/data/raw)"
    )
    goemotions_dir: Path | None = Field(
        default=None, description="The GoEmotions data (default: <project>/data/goemotions)"
    )
    dev_mode: bool = Field(
        default=False,
        description="Development: POST /refresh-model without a token, placeholder secrets",
    )
    runtime_cache: bool = Field(
        default=True,
        description="Keep what a model derives from its weights when it loads (minilm's int8 "
        "ONNX graph or its traced bfloat16 graph) under <home>/.cache/runtime, so the next "
        "process that loads the same weights reads it instead of deriving it again",
    )
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    gate: GateSettings = Field(default_factory=GateSettings)
    promotion: PromotionSettings = Field(default_factory=PromotionSettings)
    serving: ServingSettings = Field(default_factory=ServingSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    drift: DriftSettings = Field(default_factory=DriftSettings)
    azure: AzureSettings = Field(default_factory=AzureSettings)
    azureml: AzureMlSettings = Field(default_factory=AzureMlSettings)
    containers: ContainerSettings = Field(default_factory=ContainerSettings)
    aci: AciSettings = Field(default_factory=AciSettings)
    aca: AcaSettings = Field(default_factory=AcaSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # keyword arguments, then the environment, then .env (first wins)
        return (
            _RoutedInit(settings_cls, init_settings),
            _FlatSource(settings_cls, dotenv=False),
            _FlatSource(settings_cls, dotenv=True),
        )

    @model_validator(mode="before")
    @classmethod
    def _route_flat_names(cls, data: Any) -> Any:
        return route(data, strict=True) if isinstance(data, Mapping) else data

    @model_validator(mode="after")
    def _refuse_placeholder_token(self) -> Settings:
        secret = self.promotion.refresh_token
        token = secret.get_secret_value() if secret else None
        if token is not None and not self.dev_mode and token.lower() in _PLACEHOLDER_SECRETS:
            raise ValueError(
                "EMOTION_CLF_REFRESH_TOKEN is a placeholder; set a real secret "
                "or turn on EMOTION_CLF_DEV_MODE"
            )
        return self

    def updated(self, **values: Any) -> Settings:
        """A copy with ``values`` (flat names, as the environment's) replaced, validated."""
        current = self.model_dump(exclude_defaults=True)
        merged = route(current, strict=True)
        for section, fields in route(values, strict=True).items():
            if isinstance(fields, dict) and isinstance(merged.get(section), dict):
                merged[section].update(fields)
            else:
                merged[section] = fields
        return type(self).model_validate(merged)

    def check_server_token(self) -> None:
        """Raise :class:`ConfigError` when a server must not start with the refresh token:
        one shorter than :data:`MIN_REFRESH_TOKEN_CHARS` (the message never shows it)."""
        secret = self.promotion.refresh_token
        token = secret.get_secret_value() if secret else None
        if token is not None and len(token) < MIN_REFRESH_TOKEN_CHARS:
            raise ConfigError(
                f"EMOTION_CLF_REFRESH_TOKEN is {len(token)} characters long; a server needs at "
                f"least {MIN_REFRESH_TOKEN_CHARS}. Make one with: python -c "
                '"import secrets; print(secrets.token_urlsafe(32))"'
            )

    # Derived locations: everything written lives under home.
    @property
    def raw_data_dir(self) -> Path:
        return self.data_dir if self.data_dir is not None else project_root() / "data" / "raw"

    @property
    def goemotions_data_dir(self) -> Path:
        if self.goemotions_dir is not None:
            return self.goemotions_dir
        return project_root() / "data" / "goemotions"

    @property
    def transfer_cache_dir(self) -> Path:
        """Training stages cached for reuse (the minilm GoEmotions transfer stage)."""
        return self.home / ".cache" / "transfer"

    @property
    def backbones_dir(self) -> Path:
        """Base-size encoders joined from their wheels and verified (``make teacher``)."""
        return self.home / ".cache" / "backbones"

    @property
    def teacher_outputs_dir(self) -> Path:
        """A teacher's soft labels per text, one file per teacher version (distillation)."""
        return self.home / ".cache" / "teacher-outputs"

    @property
    def runtime_cache_dir(self) -> Path | None:
        """Where loads keep what models derive from their weights; None: nowhere."""
        return self.home / ".cache" / "runtime" if self.runtime_cache else None

    @property
    def registry_dir(self) -> Path:
        return self.home / "mlruns"

    @property
    def resolved_tracking_uri(self) -> str:
        if self.registry.tracking_uri:
            return self.registry.tracking_uri
        return f"sqlite:///{(self.registry_dir / 'mlflow.db').resolve()}"

    @property
    def artifact_location(self) -> str:
        return (self.registry_dir / "artifacts").resolve().as_uri()

    @property
    def cache_dir(self) -> Path:
        return self.home / ".cache" / "models"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def feedback_dir(self) -> Path:
        return self.home / "feedback"

    @property
    def monitoring_dir(self) -> Path:
        return self.home / "monitoring"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` to re-read."""
    try:
        return Settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ConfigError(f"invalid settings: {exc}") from exc

"""Helpers for the API tests: settings on a home, an app, auth headers, polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from fastapi import FastAPI

from emotion_clf.config import Settings
from emotion_clf.registry import ModelRegistry, VersionInfo

TOKEN = "test-refresh-token-0123456789-abcdefghij"  # 40 characters


def make_settings(home: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "home": home,
        "refresh_endpoints": [],
        "refresh_token": TOKEN,
        "poll_s": 0,
        "model_retry_s": 0.2,
        "registry_retries": 0,
    }
    values.update(overrides)
    return Settings(**values)


def build_app(home: Path, **overrides: Any) -> FastAPI:
    from emotion_clf.serving import create_app

    return create_app(make_settings(home, **overrides))


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for(
    predicate: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.05
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def register_bundle(registry: ModelRegistry, bundle: Path) -> VersionInfo:
    """Register ``bundle`` as a new version (``dynamic``), without a training run.

    The template homes use ``registry.register``; this is the quick path for a test that
    needs one more version.
    """
    return registry.register_bundle(bundle)


def corrupt(info: VersionInfo) -> Path:
    """Alter a registered version's stored bundle after registration (a bit flip in storage)."""
    folder = Path(unquote(urlparse(info.source).path))
    target = folder / "vocabulary.json"
    target.write_bytes(target.read_bytes().replace(b'"', b"'", 1))
    return target

from __future__ import annotations

from pathlib import Path

import pytest

from emotion_clf.config import Settings, get_settings
from emotion_clf.errors import ConfigError


def test_home_moves_everything_the_tools_write(workspace: Path) -> None:
    settings = get_settings()
    assert settings.home == workspace
    for path in (
        settings.registry_dir,
        settings.cache_dir,
        settings.feedback_dir,
        settings.monitoring_dir,
        settings.models_dir,
    ):
        assert workspace in path.parents
    assert str(workspace) in settings.resolved_tracking_uri


def test_refresh_endpoints_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "EMOTION_CLF_REFRESH_ENDPOINTS", "http://a:1/refresh-model, http://b:2/refresh-model"
    )
    assert Settings().refresh_endpoints == ["http://a:1/refresh-model", "http://b:2/refresh-model"]
    monkeypatch.setenv("EMOTION_CLF_REFRESH_ENDPOINTS", "")
    assert Settings().refresh_endpoints == []
    monkeypatch.delenv("EMOTION_CLF_REFRESH_ENDPOINTS")
    assert Settings().refresh_endpoints == ["http://localhost:8000/refresh-model"]


def test_placeholder_token_is_refused_outside_dev_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOTION_CLF_REFRESH_TOKEN", "changeme")
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="placeholder"):
        get_settings()
    monkeypatch.setenv("EMOTION_CLF_DEV_MODE", "true")
    get_settings.cache_clear()
    assert get_settings().refresh_token is not None
    get_settings.cache_clear()


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("EMOTION_CLF_POLL_SECONDS=7\n")
    assert Settings().poll_seconds == 7

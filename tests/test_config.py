from __future__ import annotations

from pathlib import Path

import pytest

from emotion_clf.config import Settings, get_settings, project_root
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
    assert Settings().promotion.refresh_endpoints == [
        "http://a:1/refresh-model",
        "http://b:2/refresh-model",
    ]
    monkeypatch.setenv("EMOTION_CLF_REFRESH_ENDPOINTS", "")
    assert Settings().promotion.refresh_endpoints == []
    monkeypatch.delenv("EMOTION_CLF_REFRESH_ENDPOINTS")
    assert Settings().promotion.refresh_endpoints == ["http://localhost:8000/refresh-model"]


def test_placeholder_token_is_refused_outside_dev_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOTION_CLF_REFRESH_TOKEN", "changeme")
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="placeholder"):
        get_settings()
    monkeypatch.setenv("EMOTION_CLF_DEV_MODE", "true")
    get_settings.cache_clear()
    assert get_settings().promotion.refresh_token is not None
    get_settings.cache_clear()


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("EMOTION_CLF_POLL_S=7\nEMOTION_CLF_GATE_ALPHA=0.01\n")
    assert Settings().serving.poll_s == 7 and Settings().gate.alpha == 0.01
    monkeypatch.setenv("EMOTION_CLF_POLL_S", "9")  # the environment wins over .env
    assert Settings().serving.poll_s == 9


def test_older_names_are_still_read_and_yield_to_the_new_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EMOTION_CLF_POLL_SECONDS", "7")
    monkeypatch.setenv("EMOTION_CLF_MICROBATCH_MAX_WAIT_MS", "8")
    settings = Settings()
    assert settings.serving.poll_s == 7
    assert settings.serving.microbatch_max_wait_s == pytest.approx(0.008)  # ms -> s
    monkeypatch.setenv("EMOTION_CLF_POLL_S", "3")
    assert Settings().serving.poll_s == 3
    assert Settings(poll_seconds=1).serving.poll_s == 1  # a keyword argument wins over both


def test_keyword_arguments_take_the_flat_names_and_refuse_unknown_ones() -> None:
    settings = Settings(gate_alpha=0.01, aca_traffic_steps="5, 100", poll_s=0)
    assert settings.gate.alpha == 0.01 and settings.aca.traffic_steps == [5, 100]
    assert settings.serving.poll_s == 0
    with pytest.raises(ConfigError, match="unknown setting 'pol_s'"):
        Settings(pol_s=1)
    copy = settings.updated(tracking_uri="http://x:5000")
    assert copy.registry.tracking_uri == "http://x:5000" and copy.gate.alpha == 0.01
    assert settings.registry.tracking_uri is None  # unchanged


def test_every_setting_has_a_description_and_the_reference_is_current() -> None:
    """The reference page in the docs is generated from the model: it cannot drift."""
    from emotion_clf.config import SECTIONS, settings_reference

    top = {k: v for k, v in Settings.model_fields.items() if k not in SECTIONS}
    fields = [*top.values()] + [f for s in SECTIONS.values() for f in s.model_fields.values()]
    assert [f for f in fields if not f.description] == []
    page = (project_root() / "docs" / "settings.md").read_text(encoding="utf-8")
    assert page == settings_reference(), "run: emotion-clf settings --markdown > docs/settings.md"

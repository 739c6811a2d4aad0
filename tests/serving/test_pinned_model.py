"""EMOTION_CLF_SERVE_MODEL pins a server to one version (a container revision's model):
promotions, polls and /refresh-model leave it there; the default follows baseline."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from emotion_clf.errors import ModelNotFoundError
from emotion_clf.promotion import promote
from emotion_clf.registry import RegistrySource
from tests.serving.helpers import auth, build_app, make_settings


def test_a_pinned_server_keeps_its_version_through_a_promotion(home: Path) -> None:
    # the template home: v1 is baseline, v2 dynamic
    with (
        TestClient(build_app(home, serve_model="2")) as pinned,
        TestClient(build_app(home)) as follower,
    ):
        assert pinned.get("/model").json()["version"] == "2"
        assert follower.get("/model").json()["version"] == "1"
        promote(settings=make_settings(home), version="2", force=True, reason="t", refresh=False)
        assert follower.post("/refresh-model", headers=auth()).json()["current_version"] == "2"
        promote(settings=make_settings(home), version="1", force=True, reason="t", refresh=False)
        answer = pinned.post("/refresh-model", headers=auth()).json()
        assert (answer["current_version"], answer["swapped"]) == ("2", False)
        assert (
            pinned.post("/predict", json={"text": "what a day"}).headers["X-Model-Version"] == "2"
        )


def test_a_pin_is_a_version_number_or_a_designation(home: Path) -> None:
    settings = make_settings(home)
    assert RegistrySource(settings, designation="7").designated_version() == "7"
    assert RegistrySource(settings, designation="dynamic").designated_version() == "2"
    with pytest.raises(ModelNotFoundError, match="unknown designation"):
        RegistrySource(settings, designation="latest")
    with pytest.raises(ValueError, match="baseline, dynamic or a version number"):
        make_settings(home, serve_model="latest")

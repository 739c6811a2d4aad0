"""The web app's pages and files, in process: headers, read-only routes, switch, config."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from emotion_clf.data.schema import SCHEMA
from emotion_clf.serving.http.web import CONTENT_SECURITY_POLICY, PAGES, assets
from tests.serving.helpers import build_app

WEB_PATHS = ("/", "/production", "/production/state", "/app/config.json", "/app/{name}")


def test_pages_load_only_their_own_files_with_a_strict_policy(shared_client: TestClient) -> None:
    for path in ("/", "/production"):
        page = shared_client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "default-src 'self'" in CONTENT_SECURITY_POLICY
        assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
        html = page.text
        # no inline script or style, no handler attribute: the policy would block them anyway
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
        assert "<style" not in html and not re.search(r"\son[a-z]+=", html)
        linked = re.findall(r'(?:src|href)="(/app/[^"]+)"', html)
        assert linked, path
        for url in linked:
            answer = shared_client.get(url)
            assert answer.status_code == 200, url
            assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert answer.headers["x-content-type-options"] == "nosniff"
        # nothing from elsewhere: every URL a page names is this server's
        assert not re.search(r'(?:src|href)="(?:https?:)?//', html)


def test_no_script_inserts_text_as_html_or_calls_a_route_that_changes_the_model() -> None:
    scripts = {name: a.body.decode() for name, a in assets().items() if name.endswith(".js")}
    assert set(scripts) >= {"common.js", "analyse.js", "production.js"}
    for name, code in scripts.items():
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in code, f"{name} uses {sink}"
        for route in ("/refresh-model", "/promote", "/rollback"):
            assert route not in code, f"{name} calls {route}"
        # the only requests that are not a GET: the prediction routes and the feedback
        posted = set(re.findall(r'App\.request\("([^"]+)", \{[^}]*method: "POST"', code))
        assert posted <= {"/predict/batch", "/predict/transcript", "/predict/media", "/feedback"}
    for name, a in assets().items():  # no URL of another origin in any shipped file
        assert not re.search(rb"https?://(?!www\.w3\.org/2000/svg|example\.org/)", a.body), name


def _routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route, through the routers FastAPI includes lazily."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)
        else:
            yield route


def test_the_app_is_read_only(shared_home: Path, shared_client: TestClient) -> None:
    routes = [
        (getattr(r, "path", None), getattr(r, "methods", set()))
        for r in _routes(build_app(shared_home).routes)
    ]
    web = [(path, methods) for path, methods in routes if path in WEB_PATHS]
    assert {path for path, _ in web} == set(WEB_PATHS)
    assert all(methods <= {"GET", "HEAD"} for _, methods in web)
    assert shared_client.post("/production/state").status_code == 405


def test_files_are_served_by_name_only(shared_client: TestClient) -> None:
    for name in ("nope.js", "..%2Fassets.py", "../assets.py", "%2e%2e%2f__init__.py"):
        answer = shared_client.get(f"/app/{name}")
        assert answer.status_code == 404, name
        assert "assets" not in answer.text or "no such file" in answer.text
    assert set(PAGES.values()) <= set(assets())


def test_the_config_states_the_schema_and_the_servers_limits(home: Path) -> None:
    with TestClient(build_app(home, batch_limit=7, web_poll_s=2.5)) as client:
        config = client.get("/app/config.json").json()
    labels = config["labels"]
    assert labels["emotion"] == list(SCHEMA.labels("emotion"))
    assert len(labels["sub_emotion"]) == 30 and labels["intensity"] == [
        "mild",
        "moderate",
        "strong",
    ]
    assert labels["children"]["sadness"] == list(SCHEMA.children("sadness"))
    assert config["limits"]["batch_limit"] == 7 and config["poll_s"] == 2.5
    assert config["urls"] == "off" and isinstance(config["speech"]["available"], bool)


def test_switched_off_the_root_redirects_to_the_docs(home: Path) -> None:
    with TestClient(build_app(home, web_app=False), follow_redirects=False) as client:
        root = client.get("/")
        assert root.status_code == 307 and root.headers["location"] == "/docs"
        assert client.get("/production").status_code == 404
        assert client.get("/app/analyse.js").status_code == 404
        assert client.get("/production/state").status_code == 404


def test_the_production_state_names_both_versions_and_the_audit(shared_client: TestClient) -> None:
    state = shared_client.get("/production/state")
    assert state.status_code == 200 and state.headers["cache-control"] == "no-store"
    body = state.json()
    registry = body["registry"]
    assert registry["baseline"]["version"] == "1" and registry["dynamic"]["version"] == "2"
    assert registry["baseline"]["promoted"]["reason"] == "test"
    assert registry["dynamic"]["promoted"] is None  # the audit records baseline changes only
    assert registry["baseline"]["family"] == "tfidf"
    assert set(registry["baseline"]["test_metrics"]) == {"emotion", "sub_emotion", "intensity"}
    assert registry["audit"][0]["to_version"] == "1" and registry["audit"][0]["status"] == "applied"
    assert body["served"]["version"] == "1"
    assert body["drift"]["reference_rows"] > 0 and body["shadow"] == {"rate": 0.0, "report": None}
    assert body["notes"] == []

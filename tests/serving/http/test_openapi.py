"""The OpenAPI document states the rules the server enforces, and a fuzzer agrees."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from tests.serving.helpers import TOKEN, build_app
from tests.serving.server import SRC, running_server

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
# the operations whose every rule JSON Schema can state; see the README for the others
NOT_FUZZED = ("/predict/media", "/predict/transcript", "/feedback", "/save-feedback")


def test_the_document_states_the_limits_of_the_apps_settings(home: Path) -> None:
    app = build_app(home, max_text_chars=123, batch_limit=7, max_body_bytes=5000)
    with TestClient(app) as client:
        doc = client.get("/openapi.json").json()
        schemas = doc["components"]["schemas"]
        text = schemas["PredictRequest"]["properties"]["text"]
        assert text["maxLength"] == 123 and text["pattern"]
        texts = schemas["BatchRequest"]["properties"]["texts"]
        assert texts["maxItems"] == 7 and texts["items"]["maxLength"] == 123
        assert "HTTPValidationError" not in str(doc)  # FastAPI's shape is not what we send
        predict = doc["paths"]["/predict"]["post"]["responses"]
        assert predict["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/ErrorBody"
        )
        assert "5,000 bytes" in predict["413"]["description"]
        assert "429" in doc["paths"]["/refresh-model"]["post"]["responses"]
        assert "#/$defs/" not in str(doc)  # every reference resolves inside the document

        # the pattern and the server agree on what blank is (Python's whitespace, not ECMA's)
        pattern = re.compile(text["pattern"])
        for blank in ("", " ", "\u3000\t", "\x1c\x85"):
            assert pattern.search(blank) is None
            answer = client.post("/predict", json={"text": blank})
            assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == [
                "body",
                "text",
            ]
        assert client.post("/predict", json={"text": "\ufeffhi"}).status_code == 200
        assert client.post("/predict", json={"text": "x" * 124}).status_code == 422


def test_schemathesis_with_all_checks_finds_no_failure(home: Path, tmp_path: Path) -> None:
    env = {"EMOTION_CLF_REFRESH_TOKEN": TOKEN, "EMOTION_CLF_POLL_S": "0"}
    with running_server(home, env=env) as server:
        excluded = [arg for path in NOT_FUZZED for arg in ("--exclude-path", path)]
        done = subprocess.run(
            [
                SCHEMATHESIS,
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                "25",
                "--workers",
                "1",
                "--seed",
                "1",
                "-H",
                f"Authorization: Bearer {TOKEN}",
                *excluded,
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,  # it writes .hypothesis/ where it runs
            env={**os.environ, "PYTHONPATH": SRC},
            timeout=300,
            check=False,
        )
        assert httpx.get(f"{server.url}/ready").status_code == 200  # it survived the fuzzing
    report = done.stdout[-3000:]
    assert done.returncode == 0, report
    counts = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert counts is not None, report
    assert int(counts.group(1)) >= 100 and counts.group(1) == counts.group(2), report

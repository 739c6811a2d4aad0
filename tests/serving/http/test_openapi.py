"""The OpenAPI document states the rules the server enforces, and a fuzzer agrees."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import jsonschema
from fastapi.testclient import TestClient

from emotion_clf.data.schema import EMOTIONS, INTENSITIES, SUB_EMOTION_PARENT
from tests.serving.helpers import TOKEN, build_app
from tests.serving.server import SRC, running_server
from tests.speech.speech_files import say

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
ROOT = Path(__file__).resolve().parents[3]  # tests.serving.schemathesis_hooks is imported
CONFIG = ROOT / "tests" / "serving" / "schemathesis.toml"


def server_paths(home: Path) -> list[tuple[str, str]]:
    """Every operation of the document: (method, path)."""
    with TestClient(build_app(home)) as client:
        paths = client.get("/openapi.json").json()["paths"]
    return [(method, path) for path, ops in paths.items() for method in ops]


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
    """Every route, every check, 0 failures: the document says what the server accepts."""
    speech = say("I am so happy today.", tmp_path / "speech.wav")
    env = {
        "EMOTION_CLF_REFRESH_TOKEN": TOKEN,
        "EMOTION_CLF_POLL_S": "0",
        # the fuzzer sends hundreds of submissions a minute: with the volume limit on, most
        # would be answered 429 and the route's own logic left untested
        "EMOTION_CLF_FEEDBACK_MAX_SUBMISSIONS_PER_MINUTE": "0",
        "EMOTION_CLF_FEEDBACK_MAX_BYTES_PER_MINUTE": "0",
    }
    with running_server(home, env=env) as server:
        done = subprocess.run(
            [
                SCHEMATHESIS,
                "--config-file",
                str(CONFIG),
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
                "--request-timeout",
                "120",  # a transcription on a busy 2-core machine takes more than 10 s
                "-H",
                f"Authorization: Bearer {TOKEN}",
            ],
            stdout=(tmp_path / "schemathesis.txt").open("w"),
            stderr=subprocess.STDOUT,
            text=True,
            cwd=tmp_path,  # it writes .hypothesis/ where it runs
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join([SRC, str(ROOT)]),
                "SCHEMATHESIS_HOOKS": "tests.serving.schemathesis_hooks",
                "EMOTION_CLF_FUZZ_SPEECH": str(speech),
            },
            timeout=300,
            check=False,
        )
        assert httpx.get(f"{server.url}/ready").status_code == 200  # it survived the fuzzing
        answered = _answered_2xx(server.log)
    output = (tmp_path / "schemathesis.txt").read_text()
    report = output[-20000:]
    assert done.returncode == 0, report
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts is not None, report
    assert int(counts.group(1)) >= 100 and counts.group(1) == counts.group(2), report
    tested = re.search(r"Tested: (\d+)", output)
    assert tested is not None and int(tested.group(1)) == len(server_paths(home)), report
    # valid data reached every route's logic: each answered a 2xx at least once (the media
    # route a recording with speech, the transcript route SRT and WebVTT written from cues)
    assert {path for _, path in server_paths(home)} <= answered, report


def _answered_2xx(log: Path) -> set[str]:
    """The routes the server's access log shows answering 2xx."""
    routes = set()
    for line in log.read_text(errors="replace").splitlines():
        if '"event": "request"' in line:
            record = json.loads(line[line.index("{") :])
            if 200 <= record["status"] < 300:
                routes.add(record["route"])
    return routes


def _resolved(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "components": doc["components"]}


def test_every_example_fits_its_schema_and_labels_are_enums(home: Path) -> None:
    with TestClient(build_app(home, media_urls="public")) as client:
        doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert schemas["EmotionOut"]["properties"]["label"]["enum"] == list(EMOTIONS)
    assert schemas["SubEmotionOut"]["properties"]["label"]["enum"] == sorted(SUB_EMOTION_PARENT)
    assert len(schemas["SubEmotionOut"]["properties"]["label"]["enum"]) == 30
    assert schemas["IntensityOut"]["properties"]["label"]["enum"] == list(INTENSITIES)
    assert "HeadOut" not in str(doc)
    row = schemas["FeedbackRow"]["properties"]
    assert row["emotion"]["enum"] == list(EMOTIONS) and len(row["sub_emotion"]["enum"]) == 30
    assert schemas["TranscriptItem"]["properties"]["sub_emotion"]["enum"] == sorted(
        SUB_EMOTION_PARENT
    )

    checked = 0
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
                if media_type.startswith(("multipart/", "audio/", "video/")):
                    continue  # files: their example is a recording, not JSON
                assert "example" in media, f"{where} {media_type}: no request example"
                example = media["example"]
                if media_type == "application/json":
                    jsonschema.validate(example, _resolved(media["schema"], doc))
                else:  # SRT or WebVTT text: the server reads it
                    assert example.startswith(("1\n", "WEBVTT")), where
                checked += 1
            for code, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json")
                if content is None or content.get("schema") == {}:
                    continue
                found = [content["example"]] if "example" in content else []
                found += [e["value"] for e in content.get("examples", {}).values()]
                if code.startswith("2") and path != "/model":
                    assert found, f"{where} {code}: no response example"
                for example in found:
                    jsonschema.validate(example, _resolved(content["schema"], doc))
                    checked += 1
            assert "200" in operation["responses"] or "202" in operation["responses"]
    assert checked >= 25
    assert "4" not in [
        doc["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["example"][
            "text"
        ]
    ]


def test_docs_pages_load_every_asset_from_the_server_itself(home: Path) -> None:
    """/docs and /redoc on a machine with no internet: every script, style and icon they name
    is on this server and answers 200 (FastAPI's own pages name a CDN)."""
    env = {"EMOTION_CLF_REFRESH_TOKEN": TOKEN, "EMOTION_CLF_POLL_S": "0"}
    with running_server(home, env=env) as server:
        for page, expected in (("/docs", "SwaggerUIBundle"), ("/redoc", "<redoc")):
            html = httpx.get(f"{server.url}{page}", timeout=10)
            assert html.status_code == 200 and expected in html.text, page
            assets = re.findall(r"""(?:src|href|spec-url)\s*=\s*['"]([^'"]+)['"]""", html.text)
            assets += re.findall(r"""url:\s*'([^']+)'""", html.text)  # Swagger UI's document
            assert len(assets) >= 3, html.text
            for asset in assets:
                assert asset.startswith("/") and not asset.startswith("//"), (page, asset)
                answer = httpx.get(f"{server.url}{asset}", timeout=10)
                assert answer.status_code == 200 and answer.content, (page, asset)
            assert "cdn" not in html.text.lower() and "fonts.googleapis" not in html.text
        swagger = httpx.get(f"{server.url}/docs").text
        assert '"validatorUrl": null' in swagger  # no call to validator.swagger.io

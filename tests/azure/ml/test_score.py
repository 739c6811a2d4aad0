"""The scoring script, served for real by Azure ML's inference server (the one Azure's images
run) from .venv-azureml on 127.0.0.1, and the deployment health check run against it."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from emotion_clf.azure.ml.score import Scorer, answer
from emotion_clf.azure.ml.smoke import check_scoring
from emotion_clf.contracts import BatchResponse, PredictResponse
from emotion_clf.models import load_bundle
from emotion_clf.monitoring.collected import CollectedRead, pair
from tests.azure.conftest import MdcSidecar
from tests.http_listeners import free_port


def test_the_server_answers_like_the_api(scoring_server: str, tfidf_bundle: Path) -> None:
    text = "I can't believe we actually won!"
    one = httpx.post(scoring_server, json={"text": text}, timeout=30)
    assert one.status_code == 200, one.text
    parsed = PredictResponse.model_validate(one.json())
    assert parsed.model_version == "3"
    expected = load_bundle(tfidf_bundle).predict_batch([text])[0].to_dict()
    assert {k: v for k, v in one.json().items() if k != "model_version"} == expected

    many = httpx.post(
        scoring_server, json={"texts": ["Thank you!", "Go away."], "distributions": True}
    )
    batch = BatchResponse.model_validate(many.json())
    assert batch.count == 2 and batch.predictions[0].emotion.distribution is not None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"txt": "hi"}, "unknown fields: txt"),
        ({"text": "a", "texts": ["b"]}, "exactly one"),
        ({"texts": []}, "non-empty list"),
        ({"texts": ["a", 3]}, "texts[1] must be a non-empty string"),
        ({"texts": ["a"] * 5}, "limit of 4"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_payloads_get_a_message_not_a_crash(
    scoring_server: str, payload: object, message: str
) -> None:
    response = httpx.post(scoring_server, json=payload, timeout=30)
    assert response.status_code == 422 and message in response.json()["detail"]


def test_the_deployment_check_passes_and_fails_for_real(scoring_server: str) -> None:
    healthy = check_scoring(scoring_server, key="k", deployment="green", version="3")
    assert healthy.passed, healthy.to_dict()
    assert [r.name for r in healthy.results] == [
        "one text",
        "batch",
        "unknown field",
        "blank text",
        "not JSON",
    ]
    wrong = check_scoring(scoring_server, deployment="green", version="4")
    assert [r.name for r in wrong.failures] == ["one text"]
    assert "serves version '3', expected '4'" in wrong.failures[0].detail
    down = check_scoring(f"http://127.0.0.1:{free_port()}/score", timeout_s=2)
    assert not down.passed and not down.reachable


def test_answer_without_a_server(tfidf_bundle: Path) -> None:
    scorer = Scorer(load_bundle(tfidf_bundle), None, batch_limit=2, max_text_chars=10)
    assert answer(b'{"text": "hello"}', scorer)[0] == 200
    status, body = answer('{"text": "far too long a text"}', scorer)
    assert status == 422 and "the limit is 10" in body["detail"]
    assert answer("not json", scorer)[1]["detail"].startswith("the body is not JSON")
    status, body = answer('{"text": "hi", "distributions": "yes"}', scorer)
    assert status == 422 and "distributions" in body["detail"]


def test_each_scored_request_reaches_the_data_collector(
    scoring_server: str, mdc_sidecar: MdcSidecar
) -> None:
    """score.py hands inputs and outputs to Azure ML's collector, which posts them to the
    sidecar, joined by one correlation id; a 422 collects nothing."""
    before = len(mdc_sidecar.payloads)
    texts = ["I am so happy for you", "This is terrifying"]
    answered = httpx.post(scoring_server, json={"texts": texts}, timeout=30).json()
    httpx.post(scoring_server, json={"texts": []}, timeout=30)  # a 422
    deadline = time.monotonic() + 15
    while len(mdc_sidecar.payloads) < before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)  # the collector sends from a worker thread
    time.sleep(0.5)  # and nothing more arrives for the 422
    new = mdc_sidecar.payloads[before:]
    assert sorted(p["type"] for p in new) == [
        "azureml.inference.model_inputs",
        "azureml.inference.model_outputs",
    ], new
    inputs = next(p for p in new if p["type"].endswith("inputs"))
    outputs = next(p for p in new if p["type"].endswith("outputs"))
    assert inputs["correlationid"] and inputs["correlationid"] == outputs["correlationid"]
    assert inputs["data"] == [{"text": t, "length": len(t)} for t in texts]
    assert [row["emotion"] for row in outputs["data"]] == [
        p["emotion"]["label"] for p in answered["predictions"]
    ]
    assert set(outputs["data"][0]) == {
        "emotion",
        "emotion_confidence",
        "sub_emotion",
        "sub_emotion_confidence",
        "intensity",
        "intensity_confidence",
    }
    # and back as the project's prediction log, for `drift check --azure-collected`
    read = pair([inputs], [outputs], CollectedRead())
    assert read.texts == texts and read.unpaired == 0
    assert read.labels["emotion"][0] == answered["predictions"][0]["emotion"]["label"]

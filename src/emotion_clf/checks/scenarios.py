"""The scenarios of the health check: what a healthy emotion-clf server answers to valid
requests, bad input of every kind, and unauthorised refreshes, with checks of the bodies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import ValidationError

from emotion_clf.contracts import ErrorAnswer
from emotion_clf.data.schema import HEADS, SCHEMA

Check = Callable[[httpx.Response], str | None]  # the problem with an answer, or None


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    expect: frozenset[int]
    json: Any = None
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    check: Check | None = None


SRT = (
    "1\n00:00:01,000 --> 00:00:03,000\nI can't believe we won!\n\n"
    "2\n00:00:04,000 --> 00:00:06,500\nThis is awful.\n"
)
OTHER_SCRIPTS = (
    "Das ist wunderbar, danke! 😀🎉",
    "Это прекрасно",
    "これは素晴らしいです",
    "هذا رائع جدا",
)


# -- checks of an answer's body -------------------------------------------------------------
def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def prediction_problem(body: Any) -> str | None:
    """What is wrong with one prediction object (labels of the schema, probabilities, the
    hierarchy), or None."""
    if not isinstance(body, dict):
        return "the prediction is not a JSON object"
    for head in HEADS:
        answer = body.get(head)
        if not isinstance(answer, dict) or answer.get("label") not in SCHEMA.labels(head):
            return f"{head}: no label of the schema in {str(answer)[:80]}"
        confidence = answer.get("confidence")
        if not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
            return f"{head}: confidence {confidence!r} is not a probability"
    if body["sub_emotion"]["label"] not in SCHEMA.children(body["emotion"]["label"]):
        return "the sub-emotion is not a child of the emotion"
    return None


def predicted(response: httpx.Response) -> str | None:
    """One prediction, consistent with the label hierarchy, and the tracing headers."""
    for header in ("x-model-version", "x-request-id"):
        if not response.headers.get(header):
            return f"no {header} header"
    return prediction_problem(_json(response))


def predicted_batch(count: int) -> Check:
    def check(response: httpx.Response) -> str | None:
        body = _json(response)
        items = body.get("predictions") if isinstance(body, dict) else None
        if not isinstance(items, list) or len(items) != count:
            return f"expected {count} predictions, got {str(items)[:80]}"
        return next((p for p in map(prediction_problem, items) if p), None)

    return check


def predicted_segments(count: int) -> Check:
    def check(response: httpx.Response) -> str | None:
        body = _json(response)
        segments = body.get("segments") if isinstance(body, dict) else None
        if not isinstance(segments, list) or len(segments) != count:
            return f"expected {count} segments, got {str(segments)[:80]}"
        if "summary" not in body:
            return "no summary"
        return next((p for p in map(prediction_problem, segments) if p), None)

    return check


def refused_naming(*fields: str) -> Check:
    """An error body (``detail``, ``request_id``) whose detail names one of ``fields``."""

    def check(response: httpx.Response) -> str | None:
        try:
            error = ErrorAnswer.model_validate_json(response.content)
        except ValidationError:
            return f"the error body is not {{detail, request_id}}: {response.text[:80]!r}"
        if fields and not any(name in error.detail for name in fields):
            return f"the error does not name {' or '.join(fields)}: {error.detail[:100]!r}"
        return None

    return check


def answered_ok(response: httpx.Response) -> str | None:
    body = _json(response)
    if response.url.path == "/ready" and not (isinstance(body, dict) and body.get("ready")):
        return f"not ready: {str(body)[:100]}"
    return None


# -- the scenarios --------------------------------------------------------------------------
def scenarios(
    *, token: str | None = None, batch_limit: int = 256, max_body_bytes: int = 1_000_000
) -> list[Scenario]:
    """What a healthy emotion-clf server answers. ``batch_limit`` and ``max_body_bytes`` are
    the server's ``EMOTION_CLF_BATCH_LIMIT`` and ``EMOTION_CLF_MAX_BODY_BYTES``."""
    ok, unprocessable = frozenset({200}), frozenset({422})
    out = [
        Scenario("liveness", "GET", "/health", ok, check=answered_ok),
        Scenario("readiness", "GET", "/ready", ok, check=answered_ok),
        Scenario("model info", "GET", "/model", ok),
        Scenario(
            "valid text",
            "POST",
            "/predict",
            ok,
            json={"text": "What a great day!"},
            check=predicted,
        ),
        Scenario(
            "batch of three",
            "POST",
            "/predict/batch",
            ok,
            json={"texts": ["I love it.", "Leave me alone.", "Wait, what?"]},
            check=predicted_batch(3),
        ),
        Scenario(
            "SRT transcript",
            "POST",
            "/predict/transcript",
            ok,
            content=SRT.encode(),
            headers={"content-type": "application/x-subrip"},
            check=predicted_segments(2),
        ),
        Scenario(
            "JSON segments",
            "POST",
            "/predict/transcript",
            ok,
            json={"segments": [{"start": 0, "end": 1.5, "text": "Thank you so much"}]},
            check=predicted_segments(1),
        ),
        *(
            Scenario(
                f"other script {i + 1}",
                "POST",
                "/predict",
                ok,
                json={"text": text},
                check=predicted,
            )
            for i, text in enumerate(OTHER_SCRIPTS)
        ),
        Scenario(
            "empty text",
            "POST",
            "/predict",
            unprocessable,
            json={"text": ""},
            check=refused_naming("text"),
        ),
        Scenario(
            "whitespace-only text",
            "POST",
            "/predict",
            unprocessable,
            json={"text": " \t\n "},
            check=refused_naming("text"),
        ),
        Scenario(
            "10,000 characters",
            "POST",
            "/predict",
            frozenset({200, 413, 422}),
            json={"text": "so happy " * 1111 + "x"},
            check=_long_text,
        ),
        Scenario(
            "wrong type",
            "POST",
            "/predict",
            unprocessable,
            json={"text": 123},
            check=refused_naming("text"),
        ),
        Scenario(
            "missing field",
            "POST",
            "/predict",
            unprocessable,
            json={},
            check=refused_naming("text"),
        ),
        Scenario(
            "unknown field",
            "POST",
            "/predict",
            unprocessable,
            json={"text": "hi", "txt": "hi"},
            check=refused_naming("txt"),
        ),
        Scenario(
            "malformed JSON",
            "POST",
            "/predict",
            frozenset({400, 422}),
            content=b'{"text": "unclosed',
            headers={"content-type": "application/json"},
            check=refused_naming(),
        ),
        Scenario(
            "empty batch",
            "POST",
            "/predict/batch",
            unprocessable,
            json={"texts": []},
            check=refused_naming("texts"),
        ),
        Scenario(
            "batch over the limit",
            "POST",
            "/predict/batch",
            frozenset({413, 422}),
            json={"texts": ["ok"] * (batch_limit + 1)},
            check=refused_naming("texts"),
        ),
        Scenario(
            "body over the size limit",
            "POST",
            "/predict",
            frozenset({413}),
            content=b'{"text": "' + b"x" * max_body_bytes + b'"}',
            headers={"content-type": "application/json"},
            check=refused_naming("limit"),
        ),
        Scenario(
            "malformed SRT",
            "POST",
            "/predict/transcript",
            unprocessable,
            content=b"1\nnot a timing line\nhello\n",
            headers={"content-type": "application/x-subrip"},
            check=refused_naming("cue"),
        ),
        Scenario(
            "unknown route", "GET", "/no-such-route", frozenset({404}), check=refused_naming()
        ),
        Scenario(
            "refresh without a token",
            "POST",
            "/refresh-model",
            frozenset({401, 403}),
            check=refused_naming(),
        ),
        Scenario(
            "refresh with a wrong token",
            "POST",
            "/refresh-model",
            # 429: this client failed too often this minute (repeated checks): still a refusal
            frozenset({401, 403, 429}),
            headers={"authorization": "Bearer not-the-token"},
            check=refused_naming(),
        ),
    ]
    if token:
        out.append(
            Scenario(
                "refresh with the token",
                "POST",
                "/refresh-model",
                ok,
                headers={"authorization": f"Bearer {token}"},
            )
        )
    return out


def _long_text(response: httpx.Response) -> str | None:
    if response.status_code == 200:
        return predicted(response)  # a server configured for long texts
    return refused_naming("text", "limit")(response)

"""The scoring script of the managed online endpoint, with Azure ML's contract.

Azure ML's inference server (``azureml-inference-server-http``, what the deployment's image
runs) calls :func:`init` once, then :func:`run` with each request body to ``POST /score``:

- ``init()`` loads the bundle Azure ML mounted under ``AZUREML_MODEL_DIR`` (checksums
  verified, as everywhere else) and warms it up;
- ``run(raw)`` takes ``{"text": "..."}`` or ``{"texts": [...]}`` (optionally
  ``"distributions": true``) and answers with the same JSON as the API's ``POST /predict``
  and ``POST /predict/batch``; a bad payload gets a 422 naming what is wrong, never a crash.

:func:`answer` is the whole decision, a pure function of the body; ``run`` only wraps its
status and JSON into the server's response type, and hands each scored request to Azure ML's
data collector (:mod:`emotion_clf.monitoring.collected`: inputs and outputs, for drift
monitoring; a no-op where the deployment does not collect). The deployment sets
``EMOTION_CLF_MODEL_VERSION`` (the registry version it serves) and may set the API's limits
(``EMOTION_CLF_BATCH_LIMIT``, ``EMOTION_CLF_MAX_TEXT_CHARS``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emotion_clf.config import get_settings
from emotion_clf.contracts import ErrorAnswer
from emotion_clf.errors import BundleError, ModelNotFoundError
from emotion_clf.models import MANIFEST, Predictor, load_bundle
from emotion_clf.monitoring.collected import TrafficCollector

logger = logging.getLogger(__name__)


class Scorer:
    """The loaded model and the limits it answers under. (A plain class: the inference server
    loads this file by path without registering it in ``sys.modules``, which dataclasses
    need.)"""

    def __init__(
        self, predictor: Predictor, version: str | None, *, batch_limit: int, max_text_chars: int
    ) -> None:
        self.predictor = predictor
        self.version = version
        self.batch_limit = batch_limit
        self.max_text_chars = max_text_chars


_scorer: Scorer | None = None
_collector: TrafficCollector | None = None
Collect = Callable[[list[str], list[dict[str, Any]]], None]


def find_bundle(model_dir: Path) -> Path:
    """The one bundle folder under ``model_dir`` (Azure ML keeps the registered folder's name)."""
    found = sorted(p.parent for p in model_dir.rglob(MANIFEST))
    if len(found) != 1:
        raise ModelNotFoundError(
            f"AZUREML_MODEL_DIR {model_dir} holds {len(found)} bundles (a {MANIFEST}); expected one"
        )
    return found[0]


def model_version(model_dir: Path) -> str | None:
    """``EMOTION_CLF_MODEL_VERSION``, else the version Azure ML names the folder by
    (``.../azureml-models/<name>/<version>``)."""
    return os.environ.get("EMOTION_CLF_MODEL_VERSION") or (
        model_dir.name if model_dir.name.isdigit() else None
    )


def load(model_dir: Path) -> Scorer:
    settings = get_settings()
    predictor = load_bundle(find_bundle(model_dir))
    predictor.predict_batch(["warm-up"])  # the first request should not pay for lazy set-up
    return Scorer(
        predictor,
        model_version(model_dir),
        batch_limit=settings.serving.batch_limit,
        max_text_chars=settings.serving.max_text_chars,
    )


def init() -> None:
    """Load the bundle from ``AZUREML_MODEL_DIR`` (Azure ML sets it to the model's mount)."""
    global _scorer, _collector
    folder = os.environ.get("AZUREML_MODEL_DIR")
    if not folder:
        raise BundleError("AZUREML_MODEL_DIR is not set: this script runs inside Azure ML")
    _scorer = load(Path(folder))
    _collector = TrafficCollector()
    logger.info("serving version %s from %s", _scorer.version, folder)


def _problem(body: Any, scorer: Scorer) -> tuple[str | None, list[str]]:
    """What is wrong with a request body (None if nothing) and its texts."""
    if not isinstance(body, dict):
        return 'the body must be a JSON object: {"text": "..."} or {"texts": [...]}', []
    unknown = sorted(set(body) - {"text", "texts", "distributions"})
    if unknown or ("text" in body) == ("texts" in body):
        extra = f" (unknown fields: {', '.join(unknown)})" if unknown else ""
        return f'send exactly one of "text" or "texts"{extra}', []
    if not isinstance(body.get("distributions", False), bool):
        return '"distributions" must be true or false', []
    single = "text" in body
    texts = [body["text"]] if single else body["texts"]
    if not isinstance(texts, list) or not texts:
        return '"texts" must be a non-empty list of strings', []
    if len(texts) > scorer.batch_limit:
        return f"{len(texts)} texts is more than the limit of {scorer.batch_limit} per request", []
    for i, text in enumerate(texts):
        field = "text" if single else f"texts[{i}]"
        if not isinstance(text, str) or not text.strip():
            return f"{field} must be a non-empty string", []
        if len(text) > scorer.max_text_chars:
            return (
                f"{field} is {len(text)} characters long; the limit is {scorer.max_text_chars}",
                [],
            )
    return None, [t.strip() for t in texts]


def answer(
    raw: str | bytes, scorer: Scorer, collect: Collect | None = None
) -> tuple[int, dict[str, Any]]:
    """``(status, JSON)`` for one request body: the API's answer, or a 422 saying why not.
    ``collect`` gets the texts and predictions of a scored request."""
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return 422, ErrorAnswer(detail=f"the body is not JSON: {exc}").model_dump()
    problem, texts = _problem(body, scorer)
    if problem is not None:
        return 422, ErrorAnswer(detail=problem).model_dump()
    distributions = bool(body.get("distributions", False))
    predictions = scorer.predictor.predict_batch(texts)
    if collect is not None:
        collect(texts, [p.to_dict() for p in predictions])
    if "text" in body:
        return 200, {
            "model_version": scorer.version,
            **predictions[0].to_dict(distributions=distributions),
        }
    return 200, {
        "model_version": scorer.version,
        "count": len(predictions),
        "predictions": [p.to_dict(distributions=distributions) for p in predictions],
    }


def run(raw: str | bytes) -> Any:
    """Azure ML's entry point: the server's response with :func:`answer`'s status and JSON."""
    from azureml_inference_server_http.api.aml_response import AMLResponse

    if _scorer is None:
        return AMLResponse({"detail": "the model is not loaded (init failed)"}, 503, json_str=True)
    status, payload = answer(raw, _scorer, _collector.collect if _collector else None)
    return AMLResponse(payload, status, json_str=True)

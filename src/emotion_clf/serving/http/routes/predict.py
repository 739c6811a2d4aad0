"""``POST /predict`` and ``POST /predict/batch`` (and the benchmark's naive route)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query

from emotion_clf.config import Settings
from emotion_clf.contracts import BatchResponse, PredictResponse
from emotion_clf.models.base import Prediction
from emotion_clf.serving.http.deps import CallDep
from emotion_clf.serving.http.schemas import (
    BatchRequest,
    PredictRequest,
    check_count,
    check_text_lengths,
)

router = APIRouter(tags=["predict"])
naive_router = APIRouter(include_in_schema=False)

Distributions = Annotated[
    bool, Query(description="Include every label's probability for each head.")
]
ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"description": "Invalid input; the message names the field"},
    503: {"description": "No model is loaded yet"},
}


# the rules and answers of the two routes, shared with the fast lane (serving/fastlane.py)
def check_one(texts: Sequence[str], settings: Settings) -> None:
    check_text_lengths(texts, max_chars=settings.serving.max_text_chars, field="text")


def check_batch(texts: Sequence[str], settings: Settings) -> None:
    check_count(
        len(texts),
        limit=settings.serving.batch_limit,
        what="texts",
        setting="EMOTION_CLF_BATCH_LIMIT",
    )
    check_text_lengths(texts, max_chars=settings.serving.max_text_chars, field="texts[{i}]")


def answer_one(
    version: str | None, predictions: Sequence[Prediction], distributions: bool
) -> dict[str, Any]:
    return {"model_version": version, **predictions[0].to_dict(distributions=distributions)}


def answer_batch(
    version: str | None, predictions: Sequence[Prediction], distributions: bool
) -> dict[str, Any]:
    return {
        "model_version": version,
        "count": len(predictions),
        "predictions": [p.to_dict(distributions=distributions) for p in predictions],
    }


@router.post(
    "/predict",
    response_model=PredictResponse,
    response_model_exclude_none=True,
    responses=ERRORS,
    summary="Emotion, sub-emotion and intensity of one text",
)
async def predict(
    body: PredictRequest, call: CallDep, distributions: Distributions = False
) -> dict[str, Any]:
    check_one([body.text], call.settings)
    predictions = await call.state.predict(
        [body.text], call.model, route="/predict", request_id=call.request_id
    )
    return answer_one(call.model.version, predictions, distributions)


@router.post(
    "/predict/batch",
    response_model=BatchResponse,
    response_model_exclude_none=True,
    responses=ERRORS,
    summary="Predictions for a list of texts, in order",
)
async def predict_batch(
    body: BatchRequest, call: CallDep, distributions: Distributions = False
) -> dict[str, Any]:
    check_batch(body.texts, call.settings)
    predictions = await call.state.predict(
        body.texts, call.model, route="/predict/batch", request_id=call.request_id
    )
    return answer_batch(call.model.version, predictions, distributions)


@naive_router.post("/predict/naive", response_model=PredictResponse)
def predict_naive(body: PredictRequest, call: CallDep) -> dict[str, Any]:
    """The model once per request, in FastAPI's thread pool: the benchmark's baseline."""
    started = time.perf_counter()
    check_one([body.text], call.settings)
    prediction = call.model.predictor.predict_batch([body.text])[0]
    call.state.record(
        [body.text],
        [prediction],
        call.model,
        route="/predict/naive",
        request_id=call.request_id,
        started=started,
    )
    return {"model_version": call.model.version, **prediction.to_dict()}

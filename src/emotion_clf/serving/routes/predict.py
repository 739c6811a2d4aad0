"""``POST /predict`` and ``POST /predict/batch`` (and the benchmark's naive route)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query

from emotion_clf.serving.deps import ContextDep, ModelDep, SettingsDep, StateDep
from emotion_clf.serving.schemas import (
    BatchRequest,
    BatchResponse,
    PredictRequest,
    PredictResponse,
    check_count,
    check_texts,
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


@router.post(
    "/predict",
    response_model=PredictResponse,
    response_model_exclude_none=True,
    responses=ERRORS,
    summary="Emotion, sub-emotion and intensity of one text",
)
async def predict(
    body: PredictRequest,
    model: ModelDep,
    state: StateDep,
    settings: SettingsDep,
    context: ContextDep,
    distributions: Distributions = False,
) -> dict[str, Any]:
    check_texts([body.text], max_chars=settings.max_text_chars, field="text")
    [prediction] = await state.predict(
        [body.text], model, route="/predict", request_id=context.request_id
    )
    return {"model_version": model.version, **prediction.to_dict(distributions=distributions)}


@router.post(
    "/predict/batch",
    response_model=BatchResponse,
    response_model_exclude_none=True,
    responses=ERRORS,
    summary="Predictions for a list of texts, in order",
)
async def predict_batch(
    body: BatchRequest,
    model: ModelDep,
    state: StateDep,
    settings: SettingsDep,
    context: ContextDep,
    distributions: Distributions = False,
) -> dict[str, Any]:
    check_count(
        len(body.texts), limit=settings.batch_limit, what="texts", setting="EMOTION_CLF_BATCH_LIMIT"
    )
    check_texts(body.texts, max_chars=settings.max_text_chars, field="texts[{i}]")
    predictions = await state.predict(
        body.texts, model, route="/predict/batch", request_id=context.request_id
    )
    return {
        "model_version": model.version,
        "count": len(predictions),
        "predictions": [p.to_dict(distributions=distributions) for p in predictions],
    }


@naive_router.post("/predict/naive", response_model=PredictResponse)
def predict_naive(
    body: PredictRequest,
    model: ModelDep,
    state: StateDep,
    settings: SettingsDep,
    context: ContextDep,
) -> dict[str, Any]:
    """The model once per request, in FastAPI's thread pool: the benchmark's baseline."""
    started = time.perf_counter()
    check_texts([body.text], max_chars=settings.max_text_chars, field="text")
    prediction = model.predictor.predict_batch([body.text])[0]
    state.record(
        [body.text],
        [prediction],
        model,
        route="/predict/naive",
        request_id=context.request_id,
        started=started,
    )
    return {"model_version": model.version, **prediction.to_dict()}

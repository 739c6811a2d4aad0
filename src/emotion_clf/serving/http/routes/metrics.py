"""``GET /metrics``: the Prometheus exposition of this process."""

from __future__ import annotations

from fastapi import APIRouter, Response

from emotion_clf.serving.http.deps import StateDep

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response, summary="Prometheus metrics")
async def metrics(state: StateDep) -> Response:
    body, content_type = state.metrics.exposition()
    return Response(content=body, media_type=content_type)

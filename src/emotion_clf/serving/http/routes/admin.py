"""``/health``, ``/ready``, ``/model`` and ``POST /refresh-model``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from emotion_clf.contracts import HealthResponse, ModelResponse, ReadyResponse, RefreshFailure
from emotion_clf.errors import ModelUnavailableError
from emotion_clf.serving.http.deps import (
    HolderDep,
    SettingsDep,
    StateDep,
    not_ready_reason,
    require_refresh_token,
)
from emotion_clf.serving.http.schemas import RefreshResponse
from emotion_clf.serving.runtime.loading import offline_text
from emotion_clf.serving.runtime.workers import refresh_server

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=HealthResponse, summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=ReadyResponse,
    responses={503: {"model": ReadyResponse, "description": "No model loaded yet"}},
    summary="Readiness: a verified model is loaded",
)
async def ready(holder: HolderDep, settings: SettingsDep) -> Any:
    model = holder.current
    if model is None:
        return JSONResponse(
            {
                "ready": False,
                "version": None,
                "designation": None,
                "offline": False,
                "detail": not_ready_reason(holder, settings),
            },
            status_code=503,
        )
    detail = f"serving {model.label}"
    if model.offline:
        detail += f"; {offline_text(model.offline_reason)}"
    return {
        "ready": True,
        "version": model.version,
        "designation": model.designation,
        "offline": model.offline,
        "detail": detail,
    }


@router.get(
    "/model",
    response_model=ModelResponse,
    responses={503: {"description": "No model loaded yet"}},
    summary="The model being served: version, designation, metrics, checksum",
)
async def model_info(holder: HolderDep, settings: SettingsDep) -> dict[str, Any]:
    model = holder.current
    if model is None:
        raise ModelUnavailableError(not_ready_reason(holder, settings))
    return model.describe()


@router.post(
    "/refresh-model",
    response_model=RefreshResponse,
    dependencies=[Depends(require_refresh_token)],
    responses={
        401: {"description": "Missing or wrong bearer token"},
        403: {"description": "Refreshing is disabled (no token configured)"},
        409: {
            "model": RefreshFailure,
            "description": "The new bundle failed verification; the old model serves on",
        },
        429: {"description": "Too many failed attempts from this client; see Retry-After"},
        503: {
            "model": RefreshFailure,
            "description": "The registry is unreachable, the load failed, or (several "
            "workers) some workers do not serve the new version: `workers` lists each",
        },
    },
    summary="Load the current baseline beside the served model and swap it in",
)
async def refresh_model(state: StateDep) -> RefreshResponse:
    return await refresh_server(state.holder, state.workers)

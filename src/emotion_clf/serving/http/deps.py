"""Dependencies of the routes, as ``Annotated`` aliases.

All are ``async``: FastAPI runs plain functions in a thread pool, which costs a thread hop on
every request for what is a dictionary lookup. The prediction routes take a single
:class:`PredictionCall`: resolving a dependency tree costs FastAPI tens of microseconds per
node on every request, which shows at hundreds of requests per second.
"""

from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from emotion_clf.config import Settings
from emotion_clf.errors import ModelUnavailableError
from emotion_clf.serving.http.errors import AuthError, RouteDisabledError, TooManyRequestsError
from emotion_clf.serving.http.middleware import RequestContext, context_of
from emotion_clf.serving.http.ratelimit import FailureLimiter
from emotion_clf.serving.runtime.holder import ModelHolder
from emotion_clf.serving.runtime.loading import LoadedModel
from emotion_clf.serving.runtime.state import ServingState

logger = logging.getLogger(__name__)


async def get_state(request: Request) -> ServingState:
    return cast(ServingState, request.app.state.serving)


async def get_settings_dep(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


StateDep = Annotated[ServingState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_holder(state: StateDep) -> ModelHolder:
    return state.holder


HolderDep = Annotated[ModelHolder, Depends(get_holder)]


def not_ready_reason(holder: ModelHolder, settings: Settings) -> str:
    why = holder.last_error or "the first load is still running"
    return f"no model is loaded yet: {why}; retrying every {settings.serving.model_retry_s:g} s"


@dataclass(frozen=True)
class PredictionCall:
    """What a prediction route works with: the model snapshot it keeps to the end, and more."""

    model: LoadedModel
    state: ServingState
    settings: Settings
    request_id: str


async def prediction_call(request: Request) -> PredictionCall:
    state = cast(ServingState, request.app.state.serving)
    settings = cast(Settings, request.app.state.settings)
    context = context_of(request.scope) or RequestContext(request_id="-")
    model = state.holder.current
    if model is None:
        raise ModelUnavailableError(not_ready_reason(state.holder, settings))
    context.model_version = model.version
    return PredictionCall(model, state, settings, context.request_id)


CallDep = Annotated[PredictionCall, Depends(prediction_call)]


BEARER = HTTPBearer(
    auto_error=False,
    description="EMOTION_CLF_REFRESH_TOKEN, as `Authorization: Bearer <token>`",
)


async def require_refresh_token(
    request: Request,
    settings: SettingsDep,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
) -> None:
    """``Authorization: Bearer <EMOTION_CLF_REFRESH_TOKEN>``, compared in constant time.

    With no token configured the route is disabled, unless dev mode is on. A client that
    failed ``refresh_failures_per_minute`` times in the last minute is answered 429 for any
    token, even the right one, until its oldest failure is a minute old (a request without a
    token is always 401). (``_scheme`` states the
    scheme in the OpenAPI document; the header is read here, so that a wrong scheme is a
    401 like a wrong token.)
    """
    token = (
        settings.promotion.refresh_token.get_secret_value()
        if settings.promotion.refresh_token
        else ""
    )
    if not token:
        if settings.dev_mode:
            return
        raise RouteDisabledError(
            "refreshing is disabled: set EMOTION_CLF_REFRESH_TOKEN "
            "(or EMOTION_CLF_DEV_MODE=true to allow it without a token)"
        )
    client = request.client.host if request.client else "unknown"
    limiter = cast(FailureLimiter, request.app.state.refresh_limiter)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    wait = limiter.retry_after(client)
    if scheme.lower() != "bearer" or not given.strip():
        # no token is no guess: always 401 (and still a failure that counts)
        problem = "missing bearer token: send 'Authorization: Bearer <token>'"
    elif wait is not None:
        seconds = max(1, math.ceil(wait))
        raise TooManyRequestsError(
            f"too many failed refresh attempts from this client; try again in {seconds} s",
            retry_after_s=seconds,
        )
    elif not secrets.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8")):
        problem = "invalid bearer token"
    else:
        limiter.succeeded(client)
        return
    limiter.failed(client)
    logger.warning("refused POST /refresh-model from %s: %s", client, problem.split(":")[0])
    raise AuthError(problem)

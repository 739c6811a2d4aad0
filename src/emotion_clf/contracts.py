"""Answers that cross a process boundary: what the API server writes and its clients read.

One typed model per answer, imported by both sides, so that a field renamed on one side
fails the other's type check and tests instead of a string lookup at run time.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class WorkerAnswer(BaseModel):
    """One worker of a server after a refresh (``serve --workers N``)."""

    pid: int | None = Field(description="The worker's process id (None: it never registered)")
    version: str | None = Field(description="The version the worker serves now")
    swapped: bool = False
    ok: bool = Field(description="The worker answered and its refresh did not fail")
    detail: str = ""


class RefreshAnswer(BaseModel):
    """``POST /refresh-model`` succeeded: the served version now, and whether it changed.

    With several workers the answer comes after every worker refreshed: ``workers`` lists
    each (the one that answered first), all serving ``current_version``.
    """

    previous_version: str | None = Field(description="The version served before the call")
    current_version: str | None = Field(description="The version served now")
    swapped: bool = Field(description="A new model was loaded and swapped in")
    duration_s: float
    message: str
    coalesced: bool = Field(
        default=False, description="The call shared a load started by a concurrent call"
    )
    offline: bool = Field(
        default=False, description="Served from cache because the registry is unreachable"
    )
    workers: list[WorkerAnswer] = Field(
        default_factory=list,
        description="With several workers, each one's state after the refresh (empty: one)",
    )


class ErrorAnswer(BaseModel):
    """The body of every 4xx and 5xx answer: a reason and the request id (the log has more)."""

    detail: str
    request_id: str | None = None


class RefreshFailure(ErrorAnswer):
    """``POST /refresh-model`` failed; the previous model keeps serving (or, with several
    workers, some of them do not serve ``current_version``: ``workers`` says which)."""

    previous_version: str | None = None
    current_version: str | None = None
    swapped: bool = False
    duration_s: float | None = None
    workers: list[WorkerAnswer] = Field(default_factory=list)


# -- the prediction routes (the server's schemas, the API client, batch inference) ----------
class HeadOut(BaseModel):
    label: str
    confidence: float
    distribution: dict[str, float] | None = None


class PredictionOut(BaseModel):
    emotion: HeadOut
    sub_emotion: HeadOut
    intensity: HeadOut


class PredictResponse(PredictionOut):
    model_version: str | None


class BatchResponse(BaseModel):
    model_version: str | None
    count: int
    predictions: list[PredictionOut]


# -- the probes (health check, deployment checks) -------------------------------------------
class HealthResponse(BaseModel):
    status: str


class ReadyResponse(BaseModel):
    ready: bool
    version: str | None
    designation: str | None
    offline: bool
    detail: str


class ModelResponse(BaseModel):
    version: str | None
    designation: str | None
    family: str
    runtime: str
    bundle_digest: str
    created_at: str
    data_fingerprint: str
    schema_fingerprint: str
    metrics: dict[str, Any]
    loaded_at: str
    load_seconds: float
    offline: bool
    offline_reason: str | None

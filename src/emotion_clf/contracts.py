"""Answers that cross a process boundary: what the API server writes and its clients read.

One typed model per answer, imported by both sides, so that a field renamed on one side
fails the other's type check and tests instead of a string lookup at run time.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class RefreshAnswer(BaseModel):
    """``POST /refresh-model`` succeeded: the served version now, and whether it changed."""

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


class ErrorAnswer(BaseModel):
    """The body of every 4xx and 5xx answer: a reason and the request id (the log has more)."""

    detail: str
    request_id: str | None = None


class RefreshFailure(ErrorAnswer):
    """``POST /refresh-model`` failed; the previous model keeps serving."""

    previous_version: str | None = None
    current_version: str | None = None
    swapped: bool = False
    duration_s: float | None = None

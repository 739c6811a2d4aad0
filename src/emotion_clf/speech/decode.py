"""Audio decoding whose cost is bounded by the duration limit, not by what the file says.

A few megabytes of compressed silence can hold hours of audio, and hours of 16 kHz float32
samples take gigabytes: a limit checked on the decoded array (as faster-whisper's
``decode_audio`` returns it, all at once) comes too late. Here the limit is enforced three
times, each before the memory it protects is spent:

1. the duration the container declares, read before anything is decoded (a file declared far
   beyond the limit is refused at once);
2. each decoded frame's own duration, before it is resampled (one giant frame at a low
   sample rate cannot expand past the limit);
3. the samples written, into one array of at most the limit's worth, allocated up front
   (untouched pages cost no memory): a file without a duration header, or one that lies, is
   refused as soon as its audio passes the limit.

The samples are the ones faster-whisper's ``decode_audio`` gives (PyAV's resampler to 16-bit
mono at 16 kHz, then divided by 32768), so the same file transcribes to the same words.
"""

from __future__ import annotations

import gc
import logging
import math
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.error import FFmpegError, InvalidDataError

from emotion_clf.errors import DataError

logger = logging.getLogger(__name__)

MAX_SAMPLE_RATE = 384_000  # the highest rate audio is recorded at; decode work grows with it
MAX_CHANNELS = 64  # 7th-order ambisonics; each decoded frame's size grows with the channels
# Some durations in headers are estimates (FFmpeg guesses an MP3's or ADTS file's from the bit
# rate of its first frames), so a declared duration refuses a file only beyond this factor of
# the limit; a file declared between the limit and this is decoded, which stops at the limit.
DECLARED_SLACK = 1.5
FRAME_TOLERANCE_S = 0.05  # a resampler's delay: a frame's output may exceed its input a little


def too_long(seconds: float, limit_s: float, *, at_least: bool = False) -> str:
    """The refusal's wording, the same whether the header or the decoding found it."""
    lasts = "more than " if at_least else ""
    return f"the audio lasts {lasts}{seconds:.0f} s; the limit is {limit_s:.0f} s"


def declared_seconds(container: InputContainer, stream: AudioStream) -> float | None:
    """The audio's duration from the headers (the stream's, else the container's), or None
    where the file declares none (a live Matroska or WebM recording, a streamed FLAC)."""
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    return None


def check_layout(stream: AudioStream, path: Path) -> None:
    """Refuse a declared sample rate or channel count no recording has: the work and the
    memory of each decoded frame grow with them, whatever the duration limit says."""
    rate, channels = stream.codec_context.sample_rate, stream.codec_context.channels
    if not 0 < rate <= MAX_SAMPLE_RATE:
        raise DataError(
            f"the audio declares a sample rate of {rate} Hz; at most {MAX_SAMPLE_RATE} Hz "
            "is decoded",
            file=path,
        )
    if not 0 < channels <= MAX_CHANNELS:
        raise DataError(
            f"the audio declares {channels} channels; at most {MAX_CHANNELS} are decoded",
            file=path,
        )


def load_audio(path: Path, *, max_duration_s: float, sampling_rate: int) -> np.ndarray:
    """The first audio stream of ``path`` as mono float32 samples at ``sampling_rate``.

    Parameters
    ----------
    path
        An audio or video file in any format FFmpeg reads.
    max_duration_s
        The longest audio accepted: the output never holds more than this many seconds of
        samples, and a longer file is refused without being decoded to its end.
    sampling_rate
        The output rate (Whisper's is 16 kHz).

    Returns
    -------
    numpy.ndarray
        One dimension, float32 in [-1, 1).

    Raises
    ------
    DataError
        Not decodable media, no audio stream, an absurd sample rate or channel count, or
        longer than ``max_duration_s`` (declared or decoded).
    """
    limit = math.floor(max_duration_s * sampling_rate)
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except FFmpegError as exc:  # not media, unreadable
        raise DataError(f"cannot decode audio: {exc}", file=path) from exc
    with container:
        if not container.streams.audio:
            raise DataError("the file holds no audio stream", file=path)
        stream = container.streams.audio[0]
        check_layout(stream, path)
        declared = declared_seconds(container, stream)
        if declared is not None and declared > max_duration_s * DECLARED_SLACK:
            raise DataError(too_long(declared, max_duration_s), file=path)
        audio = np.empty(limit, dtype=np.float32)
        written = _decode_into(audio, container, stream, path, max_duration_s, sampling_rate)
    return audio[:written]


def _decode_into(
    audio: np.ndarray,
    container: InputContainer,
    stream: AudioStream,
    path: Path,
    max_duration_s: float,
    sampling_rate: int,
) -> int:
    """Decode, resample and write into ``audio``; returns how many samples were written."""
    resampler = AudioResampler(format="s16", layout="mono", rate=sampling_rate)
    written = 0
    consumed_s = 0.0  # of input audio, by the frames' own sample rates

    def write(frames: list[AudioFrame]) -> None:
        nonlocal written
        for frame in frames:
            samples = frame.to_ndarray().reshape(-1)
            end = written + len(samples)
            if end > len(audio):
                raise DataError(too_long(max_duration_s, max_duration_s, at_least=True), file=path)
            target = audio[written:end]
            target[:] = samples
            target /= 32768.0  # what decode_audio does: s16 to float32, exactly
            written = end

    try:
        for frame in _frames(container, stream, path):
            consumed_s += frame.samples / (frame.sample_rate or sampling_rate)
            if consumed_s > max_duration_s + FRAME_TOLERANCE_S:  # before it is resampled
                raise DataError(too_long(max_duration_s, max_duration_s, at_least=True), file=path)
            frame.pts = None  # as decode_audio: the resampler checks no timestamps
            write(resampler.resample(frame))
        write(resampler.resample(None))  # what the resampler still holds
    except FFmpegError as exc:
        raise DataError(f"cannot decode audio: {exc}", file=path) from exc
    finally:
        # PyAV's resampler keeps native buffers until the garbage collector runs
        # (faster-whisper issue 390, why decode_audio collects here too).
        del resampler
        gc.collect()
    return written


def _frames(container: InputContainer, stream: AudioStream, path: Path) -> Iterator[AudioFrame]:
    """The stream's frames; decoding stops at the first corrupt packet, as decode_audio does
    (a truncated download keeps the audio before the damage), and says so."""
    frames = container.decode(stream)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except InvalidDataError as exc:
            logger.warning("%s: decoding stopped at corrupt data (%s)", path, exc)
            return
        yield frame

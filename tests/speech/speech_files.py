"""Speech made here, for the tests: espeak-ng says a script, PyAV re-encodes it as mp3 or as
an mp4 video (a black picture with the speech as its sound track); and audio made to cost
much to decode (hours of silence, headers that lie or declare no duration)."""

from __future__ import annotations

import shutil
import struct
import subprocess
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

SCRIPT = (
    "I am so happy today. This is wonderful news for all of us. "
    "But I am also a little scared of what comes next."
)


def say(text: str, out: Path) -> Path:
    """A wav file of ``text`` spoken by espeak-ng (a Debian package; .ci/run installs it)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(out), text], check=True)
    return out


def transcode(wav: Path, out: Path, *, video: bool = False) -> Path:
    """``wav`` as mp3 (by suffix) or as an mp4 with a small black video stream."""
    codec = {".mp3": "mp3", ".mp4": "aac", ".m4a": "aac"}[out.suffix]
    with av.open(str(wav)) as source, av.open(str(out), "w") as sink:
        audio_in = source.streams.audio[0]
        audio_out = sink.add_stream(codec, rate=audio_in.rate)
        picture = None
        if video:
            picture = sink.add_stream("mpeg4", rate=10)
            picture.width, picture.height, picture.pix_fmt = 64, 48, "yuv420p"
        seconds = 0.0
        for frame in source.decode(audio_in):
            frame.pts = None
            for packet in audio_out.encode(frame):
                sink.mux(packet)
            seconds += frame.samples / frame.sample_rate
        for packet in audio_out.encode(None):
            sink.mux(packet)
        if picture is not None:
            for i in range(int(seconds * 10)):
                image = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
                image.pts, image.time_base = i, Fraction(1, 10)
                for packet in picture.encode(image.reformat(format="yuv420p")):
                    sink.mux(packet)
            for packet in picture.encode(None):
                sink.mux(packet)
    return out


def silence(out: Path, seconds: float, *, rate: int = 8000, live: bool = False) -> Path:
    """``seconds`` of silent FLAC: small on disk whatever its length (4 hours: under 3 MB).

    ``out``'s suffix picks the container; ``live=True`` writes Matroska as a live recording,
    which declares no duration anywhere (PyAV reports none), so only decoding finds it out.
    """
    options = {"live": "1"} if live else {}
    with av.open(str(out), "w", options=options) as sink:
        stream = sink.add_stream("flac", rate=rate, layout="mono")
        block = rate * 60
        done = 0
        while done < seconds * rate:
            frame = av.AudioFrame.from_ndarray(np.zeros((1, block), np.int16), layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, done, Fraction(1, rate)
            for packet in stream.encode(frame):
                sink.mux(packet)
            done += block
        for packet in stream.encode(None):
            sink.mux(packet)
    return out


def lying_giant_frame(out: Path, *, seconds: int = 20_000, rate: int = 1000) -> Path:
    """A Matroska file whose header says 1 s and whose one frame holds ``seconds`` of 8-bit
    PCM at a low ``rate``: resampled to 16 kHz at once, that frame alone would take
    ``seconds`` x 32 kB of memory. The header's Duration (EBML id 0x4489) is rewritten."""
    with av.open(str(out), "w", format="matroska") as sink:
        stream = sink.add_stream("pcm_u8", rate=rate, layout="mono")
        samples = np.full((1, seconds * rate), 128, np.uint8)
        frame = av.AudioFrame.from_ndarray(samples, format="u8", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
        for packet in stream.encode(frame):
            sink.mux(packet)
    data = bytearray(out.read_bytes())
    at = data.index(b"\x44\x89") + 2  # the Duration element: a size byte, then a float
    width = data[at] & 0x7F
    data[at + 1 : at + 1 + width] = struct.pack(">d" if width == 8 else ">f", 1000.0)  # ms
    out.write_bytes(bytes(data))
    return out


def wav_header_says(out: Path, *, rate: int, channels: int) -> Path:
    """A one-second 8 kHz mono WAV whose header then claims ``rate`` and ``channels``."""
    with wave.open(str(out), "wb") as sink:
        sink.setnchannels(1)
        sink.setsampwidth(2)
        sink.setframerate(8000)
        sink.writeframes(bytes(16000))
    data = bytearray(out.read_bytes())
    data[22:24] = struct.pack("<H", channels)  # the canonical header: fmt chunk at byte 12
    data[24:28] = struct.pack("<I", rate)
    out.write_bytes(bytes(data))
    return out

"""Speech made here, for the tests: espeak-ng says a script, PyAV re-encodes it as mp3 or as
an mp4 video (a black picture with the speech as its sound track)."""

from __future__ import annotations

import shutil
import subprocess
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

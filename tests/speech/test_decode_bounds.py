"""Audio costs what its duration limit allows, not what the file asks for: hours of silence in
a few megabytes, files that declare no duration or a false one, absurd headers. Memory is
measured in a child process, so the figure is the call's own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from emotion_clf.errors import DataError
from emotion_clf.speech.decode import declared_seconds, load_audio
from emotion_clf.speech.transcribe import SAMPLE_RATE, Transcriber
from tests.speech.speech_files import (
    SCRIPT,
    lying_giant_frame,
    say,
    silence,
    transcode,
    wav_header_says,
)

FOUR_HOURS = 4 * 3600
MAX_GROWTH_MIB = 200

# What one refusal costs, in a fresh interpreter: the resident memory before the call (the
# imports done) and the high-water mark after it, both from /proc (MiB).
CHILD = """
import json, sys, time
from pathlib import Path
import av, numpy
from emotion_clf.errors import DataError
from emotion_clf.speech import decode
from emotion_clf.speech.transcribe import Transcriber

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024

before = status("VmRSS")
started = time.perf_counter()
try:
    Transcriber().transcribe(Path(sys.argv[1]), max_duration_s=float(sys.argv[2]))
    reason = None
except DataError as exc:
    reason = exc.reason
print(json.dumps({"reason": reason, "growth_mib": status("VmHWM") - before,
                  "seconds": time.perf_counter() - started}))
"""


def refusal_cost(path: Path, limit_s: float) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(limit_s)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def hours(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hours")
    return {
        "flac": silence(folder / "silence.flac", FOUR_HOURS),
        "live": silence(folder / "silence.mkv", FOUR_HOURS, live=True),
    }


def test_four_hours_of_silence_are_refused_from_the_header_at_once(
    hours: dict[str, Path],
) -> None:
    path = hours["flac"]
    assert path.stat().st_size < 5_000_000  # under any upload limit
    cost = refusal_cost(path, 900)
    assert cost["reason"] == "the audio lasts 14400 s; the limit is 900 s"
    assert isinstance(cost["growth_mib"], float) and cost["growth_mib"] < MAX_GROWTH_MIB
    assert isinstance(cost["seconds"], float) and cost["seconds"] < 5


def test_audio_without_a_duration_header_is_refused_once_it_passes_the_limit(
    hours: dict[str, Path],
) -> None:
    path = hours["live"]
    with av.open(str(path)) as container:  # the premise: nothing declares how long it is
        assert declared_seconds(container, container.streams.audio[0]) is None
    cost = refusal_cost(path, 60)
    assert cost["reason"] == "the audio lasts more than 60 s; the limit is 60 s"
    assert isinstance(cost["growth_mib"], float) and cost["growth_mib"] < MAX_GROWTH_MIB
    assert isinstance(cost["seconds"], float) and cost["seconds"] < 5  # 4 hours not decoded


def test_a_false_header_and_one_giant_frame_do_not_pass_the_limit(tmp_path: Path) -> None:
    """The header says 1 s; one frame holds 20,000 s at 1 kHz (640 MB once resampled): it is
    refused before it is resampled."""
    path = lying_giant_frame(tmp_path / "liar.mkv")
    with av.open(str(path)) as container:
        assert declared_seconds(container, container.streams.audio[0]) == 1.0
    cost = refusal_cost(path, 60)
    assert cost["reason"] == "the audio lasts more than 60 s; the limit is 60 s"
    assert isinstance(cost["growth_mib"], float) and cost["growth_mib"] < MAX_GROWTH_MIB


@pytest.mark.parametrize(
    ("rate", "channels", "reason"),
    [
        (2_000_000, 1, "declares a sample rate of 2000000 Hz"),
        (8000, 255, "declares 255 channels"),
    ],
)
def test_absurd_sample_rates_and_channel_counts_are_refused(
    tmp_path: Path, rate: int, channels: int, reason: str
) -> None:
    path = wav_header_says(tmp_path / "odd.wav", rate=rate, channels=channels)
    with pytest.raises(DataError, match=reason):
        load_audio(path, max_duration_s=60, sampling_rate=SAMPLE_RATE)


def test_audio_without_a_header_within_the_limit_decodes_to_its_length(tmp_path: Path) -> None:
    path = silence(tmp_path / "minutes.mkv", 1200, live=True)
    audio = load_audio(path, max_duration_s=1201, sampling_rate=SAMPLE_RATE)
    assert audio.dtype == np.float32 and len(audio) == 1200 * SAMPLE_RATE
    assert not audio.any()


@pytest.mark.parametrize("kind", ["wav", "mp3", "mp4"])
def test_speech_decodes_to_the_very_samples_faster_whisper_gave(tmp_path: Path, kind: str) -> None:
    """The bounded decoder replaces faster-whisper's ``decode_audio``: same samples, so the
    same words (the transcription tests in test_speech.py run on the bounded decoder)."""
    from faster_whisper import decode_audio

    wav = say(SCRIPT, tmp_path / "speech.wav")
    path = (
        wav if kind == "wav" else transcode(wav, tmp_path / f"speech.{kind}", video=kind == "mp4")
    )
    ours = load_audio(path, max_duration_s=60, sampling_rate=SAMPLE_RATE)
    assert np.array_equal(ours, decode_audio(str(path), sampling_rate=SAMPLE_RATE))
    with pytest.raises(DataError, match="the audio lasts more than 7 s; the limit is 7 s"):
        load_audio(path, max_duration_s=7, sampling_rate=SAMPLE_RATE)  # 7.7 s: decoded, cut


def test_no_limit_given_means_the_transcriber_s_ceiling(
    hours: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("emotion_clf.speech.transcribe.MAX_DURATION_S", 600.0)
    with pytest.raises(DataError, match="the limit is 600 s"):
        Transcriber().transcribe(hours["flac"])

"""Speech to timed sentences, offline, on speech made here: files, URLs, the CLI and the API."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from emotion_clf.batch.inputs import BadRow, InputRow, SourceReader
from emotion_clf.errors import DataError
from emotion_clf.speech.transcribe import Transcriber, Word, sentences
from tests.cli.helpers import run_cli
from tests.serving.helpers import build_app
from tests.speech.speech_files import SCRIPT, say, transcode


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("speech")
    wav = say(SCRIPT, folder / "speech.wav")
    return {
        "wav": wav,
        "mp3": transcode(wav, folder / "speech.mp3"),
        "mp4": transcode(wav, folder / "speech.mp4", video=True),
    }


@pytest.fixture(scope="module")
def transcriber() -> Transcriber:
    return Transcriber()


@contextmanager
def serving_folder(folder: Path) -> Iterator[str]:
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_words_are_cut_into_sentences_at_punctuation_pauses_and_length() -> None:
    words = [
        Word(" Hello", 0.0, 0.4),
        Word(" there.", 0.4, 0.8),
        Word(" So", 1.0, 1.2),
        Word(" good", 1.2, 1.5),
        Word(" after", 3.0, 3.3),  # a pause of 1.5 s ends the sentence before it
        Word(" all!", 3.3, 3.6),
    ]
    got = [(s.index, s.start, s.end, s.text) for s in sentences(words)]
    assert got == [
        (1, 0.0, 0.8, "Hello there."),
        (2, 1.0, 1.5, "So good"),
        (3, 3.0, 3.6, "after all!"),
    ]
    run_on = [Word(f" w{i}", i * 0.1, i * 0.1 + 0.05) for i in range(100)]
    assert [len(s.text.split()) for s in sentences(run_on)] == [40, 40, 20]
    assert sentences([]) == []


@pytest.mark.parametrize("kind", ["wav", "mp3", "mp4"])
def test_audio_and_video_become_timed_sentences(
    speech: dict[str, Path], transcriber: Transcriber, kind: str
) -> None:
    result = transcriber.transcribe(speech[kind])
    assert 7.0 < result.duration_s < 8.5 and result.language == "en"
    text = " ".join(s.text for s in result.segments).lower()
    assert "happy" in text and "scared" in text and "next" in text
    assert len(result.segments) >= 2
    previous_ends = [0.0] + [s.end for s in result.segments[:-1]]
    assert all(a <= s.start < s.end for a, s in zip(previous_ends, result.segments, strict=True))
    assert result.segments[-1].end <= result.duration_s + 0.5


def test_what_is_not_speech_or_too_long_is_refused(
    speech: dict[str, Path], transcriber: Transcriber, tmp_path: Path
) -> None:
    text = tmp_path / "notes.mp3"
    text.write_text("these are not sounds")
    with pytest.raises(DataError, match="cannot decode audio"):
        transcriber.transcribe(text)
    with pytest.raises(DataError, match="the limit is 3 s"):
        transcriber.transcribe(speech["wav"], max_duration_s=3)


def test_media_files_and_urls_in_batch_inference(
    speech: dict[str, Path], tmp_path: Path, tfidf_bundle: Path
) -> None:
    (speech["wav"].parent / "show.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nHi!\n")
    with serving_folder(speech["wav"].parent) as base:
        reader = SourceReader(workdir=tmp_path)
        items = list(reader.read(f"{base}/speech.mp3"))
        assert all(isinstance(i, InputRow) for i in items) and len(items) >= 2
        assert items[0].start_s == 0.0 and items[0].end_s is not None
        [srt] = list(reader.read(f"{base}/show.srt"))
        assert isinstance(srt, InputRow) and srt.text == "Hi!"
        [missing] = list(reader.read(f"{base}/nothing.wav"))
        assert isinstance(missing, BadRow) and "HTTP 404" in missing.reason
        out = tmp_path / "speech.csv"
        cli = run_cli(
            "predict", "--input-file", str(speech["mp4"]), "--input-file", f"{base}/speech.wav",
            "--model", str(tfidf_bundle), "--output", str(out), "--json", home=tmp_path,
        )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    summary = json.loads(cli.stdout)
    assert summary["bad_rows"] == 0 and len(summary["sources"]) == 2
    for source in summary["sources"]:
        assert source["rows"] >= 2 and 6.0 < source["duration_s"] < 8.5
    assert "start_s" in out.read_text().splitlines()[0]


def test_a_youtube_page_without_yt_dlp_says_what_is_needed(tmp_path: Path) -> None:
    try:
        import yt_dlp  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("yt-dlp is installed; without internet it would try to connect")
    [bad] = list(SourceReader(workdir=tmp_path).read("https://www.youtube.com/watch?v=abc"))
    assert isinstance(bad, BadRow) and "needs yt-dlp (pip install yt-dlp)" in bad.reason


def test_the_media_route_takes_uploads_bodies_and_urls(
    speech: dict[str, Path], home: Path, tmp_path: Path
) -> None:
    # the files are served from 127.0.0.1: an internal host, fetched only when allowed by name
    app = build_app(
        home, media_max_bytes=2_000_000, media_max_s=60, media_urls="127.0.0.1:internal"
    )
    with serving_folder(speech["wav"].parent) as base, TestClient(app) as client:
        upload = client.post(
            "/predict/media",
            files={"file": ("speech.mp3", speech["mp3"].read_bytes(), "audio/mpeg")},
        )
        assert upload.status_code == 200, upload.text
        body = upload.json()
        assert body["format"] == "media" and body["model_version"] == "1"
        assert len(body["segments"]) >= 2 and 7 < body["media"]["duration_s"] < 8.5
        assert body["segments"][0]["start_time"] == "00:00:00.000"
        assert body["summary"]["segments"] == len(body["segments"])
        raw = client.post(
            "/predict/media",
            content=speech["mp4"].read_bytes(),
            headers={"content-type": "video/mp4"},
        )
        assert raw.status_code == 200 and len(raw.json()["segments"]) >= 2
        by_url = client.post("/predict/media", json={"url": f"{base}/speech.wav"})
        assert by_url.status_code == 200, by_url.text

        refusals = {
            "not media": client.post(
                "/predict/media", files={"file": ("notes.mp3", b"not sound", "audio/mpeg")}
            ),
            "too large": client.post(
                "/predict/media", content=b"x" * 2_000_001, headers={"content-type": "audio/wav"}
            ),
            "a text URL": client.post("/predict/media", json={"url": f"{base}/show.srt"}),
            "not http": client.post("/predict/media", json={"url": "file:///etc/passwd"}),
            "no url": client.post("/predict/media", json={"link": "x"}),
            "form without file": client.post(
                "/predict/media", files={"other": ("a.txt", b"x", "text/plain")}
            ),
            "a plain form": client.post("/predict/media", data={"url": "x"}),
            "wrong type": client.post(
                "/predict/media", content=b"hello", headers={"content-type": "text/plain"}
            ),
        }
        schema = client.get("/openapi.json").json()["paths"]["/predict/media"]["post"]
    statuses = {name: r.status_code for name, r in refusals.items()}
    assert statuses == {
        "not media": 422,
        "too large": 413,
        "a text URL": 422,
        "not http": 422,
        "no url": 422,
        "form without file": 422,
        "a plain form": 415,
        "wrong type": 415,
    }
    assert "cannot decode audio" in refusals["not media"].json()["detail"]
    assert "2000000 bytes" in refusals["too large"].json()["detail"]
    assert refusals["not http"].json()["detail"] == "the URL could not be fetched"
    assert refusals["a text URL"].json()["detail"] == "the URL could not be fetched"
    assert "2,000,000 bytes" in schema["description"] and "60 seconds" in schema["description"]
    content = schema["requestBody"]["content"]
    assert content["multipart/form-data"]["schema"]["properties"]["file"]["maxLength"] == 2_000_000
    assert set(content) == {
        "multipart/form-data",
        "audio/wav",
        "audio/mpeg",
        "video/mp4",
        "application/json",  # URLs are fetched here (media_urls)
    }


def test_a_long_recording_is_refused_by_the_route(speech: dict[str, Path], home: Path) -> None:
    with TestClient(build_app(home, media_max_s=3)) as client:
        response = client.post(
            "/predict/media",
            content=speech["wav"].read_bytes(),
            headers={"content-type": "audio/wav"},
        )
    detail = response.json()["detail"]
    assert response.status_code == 422 and "the limit is 3 s" in detail
    assert "/tmp" not in detail and "upload" not in detail  # no server paths in answers

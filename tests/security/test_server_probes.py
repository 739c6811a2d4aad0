"""Probes of a real server on 127.0.0.1, as an attacker or a careless client would send them:
URLs that point inside, a JSON form that is too large, downloads that pile up, clients that
never finish a request, proxy headers from anyone, and errors nobody expected.

Every internal address is a listener of this test's own: a test fails if one of them receives
a request.
"""

from __future__ import annotations

import io
import socket
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emotion_clf.urls import PUBLIC_MESSAGE
from tests.conftest import Homes, copy_home
from tests.http_listeners import Raw, free_port
from tests.security.conftest import ProbeLog
from tests.serving.helpers import TOKEN, auth
from tests.serving.server import Server, running_server

BASE_ENV = {"EMOTION_CLF_REFRESH_TOKEN": TOKEN, "EMOTION_CLF_POLL_S": "0"}
# the loopback address in the spellings an HTTP client reads as 127.0.0.1 (or ::1)
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "127.1", "2130706433", "0x7f000001", "0177.0.0.1"]
LOOPBACK_HOSTS += ["0.0.0.0", "[::1]", "[::ffff:127.0.0.1]"]


def silent_wav(seconds: float = 1.0, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as sink:
        sink.setnchannels(1)
        sink.setsampwidth(2)
        sink.setframerate(rate)
        sink.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def probe_home(registry_homes: Homes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        yield copy_home(registry_homes.promoted, tmp_path_factory.mktemp("probes"), mp)


@pytest.fixture(scope="module")
def default_server(probe_home: Path) -> Iterator[Server]:
    """A server with the default settings: URLs off, no trusted proxy."""
    with running_server(probe_home, env=BASE_ENV) as server:
        yield server


@pytest.fixture(scope="module")
def public_server(probe_home: Path) -> Iterator[Server]:
    """A server that fetches URLs of public hosts, and short request deadlines."""
    env = {
        **BASE_ENV,
        "EMOTION_CLF_MEDIA_URLS": "public",
        "EMOTION_CLF_HEADER_TIMEOUT_S": "1",
        "EMOTION_CLF_BODY_TIMEOUT_S": "1",
    }
    with running_server(probe_home, env=env) as server:
        yield server


def media_url(server: Server, url: str) -> httpx.Response:
    return httpx.post(f"{server.url}/predict/media", json={"url": url}, timeout=30)


def test_urls_are_not_fetched_unless_the_settings_allow_it(
    default_server: Server, probes: ProbeLog
) -> None:
    with Raw(silent_wav(), content_type="audio/wav") as inside:
        answer = media_url(default_server, f"{inside.url}/a.wav")
        reached = len(inside.requests)
    probes.record(
        "media URL, URL fetching off (default)",
        expected="415 (URLs off), listener untouched",
        observed=f"{answer.status_code}, {reached} request(s) at the listener",
        ok=answer.status_code == 415 and reached == 0,
    )
    assert reached == 0
    assert answer.status_code == 415  # the JSON form is not read: it names no address
    assert "EMOTION_CLF_MEDIA_URLS=off" in answer.json()["detail"]
    assert "request_id" in answer.json()


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_no_spelling_of_loopback_reaches_a_listener(
    public_server: Server, host: str, probes: ProbeLog
) -> None:
    with Raw(silent_wav(), content_type="audio/wav") as inside:
        port = inside.server.server_address[1]
        answer = media_url(public_server, f"http://{host}:{port}/speech.wav")
        reached = len(inside.requests)
    probes.record(
        "media URL to loopback, any spelling",
        expected="422, listener untouched",
        observed=f"{answer.status_code}, {reached} request(s) at the listener",
        ok=answer.status_code == 422 and reached == 0,
    )
    assert reached == 0, f"{host} reached the listener"
    assert answer.status_code == 422 and answer.json()["detail"] == PUBLIC_MESSAGE


def test_refusals_and_failures_all_read_the_same(public_server: Server, probes: ProbeLog) -> None:
    """No answer tells a closed port from a refused address, a bad URL or credentials: a
    scanner learns nothing."""
    closed = free_port()
    urls = [
        f"http://127.0.0.1:{closed}/x.wav",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/x.wav",
        "http://user:secret@127.0.0.1/x.wav",
        "http://[::1/x.wav",
        "http://xn--/x.wav",
        "ftp://127.0.0.1/x.wav",
    ]
    answers = [media_url(public_server, url) for url in urls]
    for answer in answers:
        probes.record(
            "media URL: closed port, metadata, private, credentials, malformed, not http",
            expected=f"422 '{PUBLIC_MESSAGE}'",
            observed=f"{answer.status_code} '{answer.json().get('detail')}'",
            ok=answer.status_code == 422 and answer.json().get("detail") == PUBLIC_MESSAGE,
        )
    assert [a.status_code for a in answers] == [422] * len(urls)
    assert {a.json()["detail"] for a in answers} == {PUBLIC_MESSAGE}
    assert all("secret" not in a.text and "169.254" not in a.text for a in answers)


def test_the_json_form_is_small_and_a_long_url_is_not_echoed(
    public_server: Server, probes: ProbeLog
) -> None:
    big = httpx.post(
        f"{public_server.url}/predict/media",
        content=b'{"url": "http://a.example/' + b"x" * 40_000 + b'"}',
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert big.status_code == 413 and "EMOTION_CLF_MEDIA_JSON_MAX_BYTES" in big.json()["detail"]
    marker = "q" * 3000
    long = media_url(public_server, f"http://a.example/{marker}.wav")
    probes.record(
        "media JSON body of 40 KB",
        expected="413",
        observed=str(big.status_code),
        ok=big.status_code == 413,
    )
    probes.record(
        "media URL of 3,000 characters",
        expected="422, URL not echoed",
        observed=f"{long.status_code}, echoed: {marker in long.text}",
        ok=long.status_code == 422 and marker not in long.text,
    )
    assert long.status_code == 422 and marker not in long.text
    assert long.json()["detail"].startswith("url:")


def test_an_allowed_internal_host_is_fetched_once(probe_home: Path) -> None:
    """The allow-list is the way to a media host inside: exactly the one request."""
    with Raw(silent_wav(), content_type="audio/wav") as inside:
        env = {**BASE_ENV, "EMOTION_CLF_MEDIA_URLS": "127.0.0.1:internal"}
        with running_server(probe_home, env=env) as server:
            answer = media_url(server, f"{inside.url}/speech.wav")
        assert inside.requests == [("GET", "/speech.wav")]
    assert answer.status_code == 422 and "no speech found" in answer.json()["detail"]


def test_slow_downloads_take_their_slots_not_the_feedback_routes_threads(
    probe_home: Path, probes: ProbeLog
) -> None:
    """Two downloads that never finish hold the two slots: a third is answered 503 at once,
    and a one-row feedback is saved without waiting for them."""
    with Raw(hang=True) as stuck:
        env = {
            **BASE_ENV,
            "EMOTION_CLF_MEDIA_URLS": "127.0.0.1:internal",
            "EMOTION_CLF_MEDIA_MAX_DOWNLOADS": "2",
            "EMOTION_CLF_MEDIA_URL_DEADLINE_S": "8",
        }
        with running_server(probe_home, env=env) as server:
            waiting = [
                threading.Thread(target=media_url, args=(server, f"{stuck.url}/{i}.wav"))
                for i in range(2)
            ]
            for thread in waiting:
                thread.start()
            deadline = time.monotonic() + 10
            while len(stuck.requests) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            third = media_url(server, f"{stuck.url}/third.wav")
            started = time.perf_counter()
            row = {"text": "I love it", "emotion": "happiness", "sub_emotion": "joy"}
            saved = httpx.post(
                f"{server.url}/feedback",
                json={"items": [{**row, "intensity": "mild"}]},
                timeout=30,
            )
            feedback_s = time.perf_counter() - started
            for thread in waiting:
                thread.join(30)
    probes.record(
        "a download while every slot hangs",
        expected="503 with Retry-After",
        observed=f"{third.status_code}, Retry-After {third.headers.get('Retry-After')}",
        ok=third.status_code == 503 and "Retry-After" in third.headers,
    )
    probes.record(
        "one-row feedback while downloads hang",
        expected="200 within 2 s",
        observed=f"{saved.status_code} in {feedback_s:.2f} s",
        ok=saved.status_code == 200 and feedback_s < 2.0,
    )
    assert third.status_code == 503 and third.headers["Retry-After"]
    assert saved.status_code == 200, saved.text
    assert feedback_s < 2.0


def test_a_client_that_never_finishes_its_request_is_cut_off(
    public_server: Server, probes: ProbeLog
) -> None:
    port = int(public_server.url.rsplit(":", 1)[1])
    cases = {
        "nothing": b"",
        "half a head": b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Ty",
        "half a body": b"POST /feedback HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
    }
    for name, sent in cases.items():
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(sent)
            started = time.monotonic()
            answer = b""
            while chunk := sock.recv(4096):  # until the server closes it
                answer += chunk
            held = time.monotonic() - started
        probes.record(
            "a client that never finishes its request",
            expected="408 and closed within 5 s",
            observed=f"{answer[:12].decode(errors='replace')!r} after {held:.1f} s",
            ok=held < 5 and answer.startswith(b"HTTP/1.1 408"),
        )
        assert held < 5, f"{name}: held {held:.1f} s"
        assert answer.startswith(b"HTTP/1.1 408"), (name, answer[:80])


def test_forwarded_for_does_not_reset_the_refresh_lockout(
    default_server: Server, probes: ProbeLog
) -> None:
    """With no trusted proxy, X-Forwarded-For from a local client is not its address: five
    wrong tokens lock it out whatever it claims to be."""
    url = f"{default_server.url}/refresh-model"
    statuses = []
    for i in range(7):
        headers = {**auth("wrong-token-" + "x" * 30), "X-Forwarded-For": f"203.0.113.{i}"}
        statuses.append(httpx.post(url, headers=headers, timeout=30).status_code)
    probes.record(
        "X-Forwarded-For against the refresh lockout (7 wrong tokens)",
        expected="401 x5, then 429",
        observed=", ".join(map(str, statuses)),
        ok=statuses[:5] == [401] * 5 and statuses[5:] == [429, 429],
    )
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]


def _rss_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for {pid}")


def test_four_hours_of_audio_are_refused_before_they_cost_memory(
    public_server: Server, tmp_path: Path, probes: ProbeLog
) -> None:
    """An upload under the size limit that would decode into gigabytes: the server's peak
    memory grows by under 200 MB, and it says why it refuses."""
    from tests.speech.speech_files import silence

    pid = public_server.process.pid
    recording = silence(tmp_path / "four-hours.flac", 4 * 3600)
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak (VmHWM) restarts from now
    before = _rss_mib(pid, "VmRSS")
    with recording.open("rb") as handle:
        answer = httpx.post(
            f"{public_server.url}/predict/media",
            files={"file": ("four-hours.flac", handle, "audio/flac")},
            timeout=60,
        )
    growth = _rss_mib(pid, "VmHWM") - before
    probes.record(
        "4 hours of audio in a 3 MB upload",
        expected="422, server peak RSS +<200 MiB",
        observed=f"{answer.status_code}, +{growth:.0f} MiB",
        ok=answer.status_code == 422 and growth < 200,
    )
    assert answer.status_code == 422 and "lasts" in answer.json()["detail"]
    assert growth < 200, f"the server's peak memory grew by {growth:.0f} MiB"

"""The fetch's bounds and faces: size, deadline, modes, proxies, TLS, one public message."""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path

import pytest

from emotion_clf.urls import PUBLIC_MESSAGE, UrlFetchError, UrlPolicy, fetch_url, fetch_url_async
from tests.urls.servers import (
    OTHER_PUBLIC,
    PUBLIC,
    WAV,
    Answer,
    Internal,
    Listener,
    PublicRoute,
    Seen,
    TableResolver,
    redirecting,
    refused,
)


@pytest.mark.parametrize("content_length", [True, False])
def test_an_answer_larger_than_the_cap_is_refused(
    content_length: bool, public: Listener, tmp_path: Path
) -> None:
    public.answers["/big.wav"] = Answer(body=bytes(5000), content_length=content_length)
    route = PublicRoute({(PUBLIC, 80): public.port})
    resolver = TableResolver({"media.example": [PUBLIC]})
    refused(
        "http://media.example/big.wav",
        UrlPolicy(max_bytes=4999),
        tmp_path,
        resolver=resolver,
        transport=route,
    )
    got = fetch_url(
        "http://media.example/big.wav",
        UrlPolicy(max_bytes=5000),
        folder=tmp_path,
        resolver=resolver,
        transport=route,
    )
    assert got.size == 5000


@pytest.mark.timeout(30)
@pytest.mark.parametrize("answer", [Answer(trickle_s=0.05), Answer(stall_s=30)])
def test_the_deadline_covers_the_whole_fetch(
    answer: Answer, internal: Internal, tmp_path: Path
) -> None:
    internal.v4.answers["/slow.wav"] = answer
    url = f"http://127.0.0.1:{internal.port}/slow.wav"
    started = time.monotonic()
    error = refused(url, UrlPolicy(mode="any", deadline_s=1.0), tmp_path)
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 1.6, elapsed  # each byte of the trickle came well within 1 s
    assert "deadline" in error.detail


@pytest.mark.timeout(30)
def test_the_deadline_covers_a_hung_resolver(tmp_path: Path) -> None:
    def hung(host: str, port: int) -> list[str]:
        time.sleep(3)
        return [PUBLIC]

    started = time.monotonic()
    refused("http://media.example/x.wav", UrlPolicy(deadline_s=0.5), tmp_path, resolver=hung)
    assert time.monotonic() - started < 1.2


def test_allow_list_mode_fetches_only_listed_hosts(
    public: Listener, internal: Internal, tmp_path: Path
) -> None:
    resolver = TableResolver(
        {
            "media.example": [PUBLIC],
            "other.example": [PUBLIC],
            "store.internal": ["127.0.0.1"],
            "leaky.example": ["127.0.0.1"],
        }
    )
    route = PublicRoute({(PUBLIC, 80): public.port})
    policy = UrlPolicy(
        mode="allow-list",
        allowed_hosts=("media.example", "store.internal:internal", "leaky.example"),
    )

    def get(url: str) -> bytes:
        got = fetch_url(url, policy, folder=tmp_path, resolver=resolver, transport=route)
        return got.path.read_bytes()

    assert get("http://MEDIA.example./x.wav") == WAV
    assert get(f"http://store.internal:{internal.port}/x.wav") == WAV  # opted in
    assert len(internal.requests) == 1
    for url in ("http://other.example/x.wav", f"http://leaky.example:{internal.port}/x.wav"):
        with pytest.raises(UrlFetchError):
            get(url)
    assert len(internal.requests) == 1 and len(public.requests) == 1


def test_off_mode_fetches_nothing(public: Listener, tmp_path: Path) -> None:
    resolver = TableResolver({"media.example": [PUBLIC]})
    route = PublicRoute({(PUBLIC, 80): public.port})
    policy = UrlPolicy(mode="off")
    refused("http://media.example/x.wav", policy, tmp_path, resolver=resolver, transport=route)
    assert resolver.calls == [] and route.sent == [] and public.requests == []


def test_proxies_from_the_environment_are_not_used(
    internal: Internal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = Listener({})
    try:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        url = f"http://127.0.0.1:{internal.port}/x.wav"
        assert fetch_url(url, UrlPolicy(mode="any"), folder=tmp_path).size == len(WAV)
        assert proxy.requests == [] and len(internal.requests) == 1
    finally:
        proxy.close()


def test_https_sends_the_name_as_sni_and_verifies_the_certificate_against_it(
    tls: tuple[Listener, ssl.SSLContext], tmp_path: Path
) -> None:
    listener, trust = tls
    folder = tmp_path / "out"
    folder.mkdir()
    (tmp_path / "none").mkdir()
    resolver = TableResolver({"media.example": [PUBLIC], "evil.example": [PUBLIC]})
    route = PublicRoute({(PUBLIC, 443): listener.port}, verify=trust)
    got = fetch_url(
        "https://media.example/x.wav",
        UrlPolicy(),
        folder=folder,
        resolver=resolver,
        transport=route,
    )
    assert got.path.read_bytes() == WAV
    assert listener.sni == ["media.example"]
    assert listener.requests == [Seen("/x.wav", "media.example")]
    # the same address under a name the certificate does not carry: refused by TLS
    error = refused(
        "https://evil.example/x.wav",
        UrlPolicy(),
        tmp_path / "none",
        resolver=resolver,
        transport=PublicRoute(route.routes, verify=trust),
    )
    assert "CERTIFICATE_VERIFY_FAILED" in error.detail and len(listener.requests) == 1


def test_every_failure_has_the_same_public_message(
    public: Listener, internal: Internal, tmp_path: Path
) -> None:
    public.answers["/gone"] = Answer(404, b"no")
    public.answers["/boom"] = Answer(500, b"boom")
    public.answers["/page"] = Answer(body=b"<html>", headers={"Content-Type": "text/html"})
    public.answers["/zip"] = Answer(
        headers={"Content-Type": "audio/wav", "Content-Encoding": "gzip"}
    )
    public.answers["/big"] = Answer(body=bytes(2000))
    public.answers["/slow"] = Answer(stall_s=5)
    redirecting(public, f"http://127.0.0.1:{internal.port}/x.wav")
    closed = Listener()
    closed.close()
    resolver = TableResolver(
        {
            "media.example": [PUBLIC],
            "closed.example": [OTHER_PUBLIC],
            "lan.example": ["192.168.0.10"],
        }
    )
    route = PublicRoute({(PUBLIC, 80): public.port, (OTHER_PUBLIC, 80): closed.port})
    policy = UrlPolicy(max_bytes=1000, deadline_s=0.5)
    urls = [
        f"http://media.example/{p}" for p in ("gone", "boom", "page", "zip", "big", "slow", "go")
    ]
    urls += ["http://closed.example/x.wav", "http://lan.example/x.wav", "http://nowhere.example/",
             "http://u:p@media.example/x.wav", "http://[::1/x.wav", "ftp://media.example/x",
             "http://" + "a" * 70_000]  # fmt: skip
    errors = []
    for url in urls:
        with pytest.raises(UrlFetchError) as caught:
            fetch_url(
                url,
                policy,
                folder=tmp_path,
                content_types=("audio/",),
                resolver=resolver,
                transport=PublicRoute(route.routes),
            )
        errors.append(caught.value)
    assert {(e.public, e.reason, e.to_dict()["message"]) for e in errors} == {
        (PUBLIC_MESSAGE, PUBLIC_MESSAGE, PUBLIC_MESSAGE)
    }
    assert all(e.to_dict()["value"] is None and e.http_status == 422 for e in errors)
    assert len({e.detail for e in errors}) == len(urls)  # the log still tells them apart
    assert internal.requests == []


def test_the_async_face_is_awaitable(internal: Internal, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{internal.port}/x.wav"
    got = asyncio.run(fetch_url_async(url, UrlPolicy(mode="any"), folder=tmp_path))
    assert got.path.read_bytes() == WAV

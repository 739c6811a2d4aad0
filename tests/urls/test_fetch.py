"""The bounded fetch against real listeners on loopback.

An "internal" listener (127.0.0.1 and ::1 on one port) stands for a service inside the
server's network: a test of a refusal fails if it receives anything. A "public" listener is
reached only through :class:`PublicRoute`, for names that an injected resolver gives public
addresses, so nothing here needs the internet.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from emotion_clf.urls import UrlPolicy, fetch_url
from tests.serving.helpers import wait_for
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

LOOPBACK = ["localhost", "LOCALHOST", "localhost.", "127.0.0.1", "127.1", "127.0.1",
            "2130706433", "0x7f000001", "0x7f.1", "0177.0.0.1", "017700000001",
            "127.000.000.001", "127.0.0.1.", "0.0.0.0", "0", "[::1]", "[0:0:0:0:0:0:0:1]",
            "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::]"]  # fmt: skip


@pytest.mark.parametrize("spelling", LOOPBACK)
def test_every_spelling_of_this_machine_is_refused(
    spelling: str, internal: Internal, tmp_path: Path
) -> None:
    # the real resolver and the real transport: a policy that let one through would reach
    # the listener, as the next test shows a plain connection does
    error = refused(f"http://{spelling}:{internal.port}/x.wav", UrlPolicy(), tmp_path)
    assert any(word in error.detail for word in ("loopback", "unspecified"))
    time.sleep(0.05)
    assert internal.requests == []


@pytest.mark.parametrize("spelling", LOOPBACK)
def test_a_plain_connection_by_each_spelling_reaches_the_listener(
    spelling: str, internal: Internal
) -> None:
    host = spelling.strip("[]")
    try:
        connection = socket.create_connection((host, internal.port), timeout=5)
    except OSError as exc:  # e.g. glibc does not read "127.0.0.1." as an address
        pytest.skip(f"this machine's resolver does not read {spelling}: {exc}")
    with connection:
        connection.sendall(b"GET /x.wav HTTP/1.0\r\n\r\n")
        connection.recv(100)
    wait_for(lambda: internal.requests, timeout=2)  # the listener's thread records late
    assert [r.path for r in internal.requests] == ["/x.wav"]


@pytest.mark.parametrize(
    "url",
    [
        "http://user:pass@127.0.0.1:{port}/x.wav",
        "http://127.0.0.1:{port}@media.example/x.wav",
        "http://media.example\\@127.0.0.1:{port}/x.wav",
        "http://[::1/x.wav",
        "http://xn--/x.wav",
        "http://127.0.0.1:{port}/" + "a" * 65_536,
        "gopher://127.0.0.1:{port}/_GET%20/x.wav",
    ],
)
def test_credentials_and_bad_urls_are_refused_even_where_internal_hosts_are_allowed(
    url: str, internal: Internal, tmp_path: Path
) -> None:
    error = refused(url.format(port=internal.port), UrlPolicy(mode="any"), tmp_path)
    assert len(str(error)) < 600  # the detail clips the URL too
    assert internal.requests == []


def test_a_public_host_is_fetched_at_the_address_that_was_checked(
    public: Listener, tmp_path: Path
) -> None:
    resolver = TableResolver({"media.example": [PUBLIC]})
    route = PublicRoute({(PUBLIC, 80): public.port})
    got = fetch_url(
        "http://media.example/x.wav?t=1",
        UrlPolicy(),
        folder=tmp_path,
        resolver=resolver,
        transport=route,
    )
    assert got.path.read_bytes() == WAV and got.path.parent == tmp_path
    assert got.path.suffix == ".wav"
    assert (got.content_type, got.size, got.via) == ("audio/wav", len(WAV), "http")
    # one lookup, and the request addressed to the checked address with the original Host
    assert resolver.calls == ["media.example"]
    assert route.sent == [(PUBLIC, 80, "media.example")]
    assert public.requests == [Seen("/x.wav?t=1", "media.example")]


def test_no_second_lookup_on_the_real_transport(internal: Internal, tmp_path: Path) -> None:
    # "media.internal" exists only in the injected resolver: were the name looked up again
    # by the HTTP client (where DNS rebinding would strike), the fetch would fail
    resolver = TableResolver({"media.internal": ["127.0.0.1"]})
    url = f"http://media.internal:{internal.port}/x.wav"
    got = fetch_url(url, UrlPolicy(mode="any"), folder=tmp_path, resolver=resolver)
    assert got.path.read_bytes() == WAV
    assert internal.requests == [Seen("/x.wav", f"media.internal:{internal.port}")]
    assert resolver.calls == ["media.internal"]


def test_a_name_that_rebinds_after_the_check_is_still_fetched_from_the_checked_address(
    public: Listener, internal: Internal, tmp_path: Path
) -> None:
    answers = iter([[PUBLIC], ["127.0.0.1"], ["127.0.0.1"]])
    route = PublicRoute({(PUBLIC, internal.port): public.port})
    fetch_url(
        f"http://rebind.example:{internal.port}/x.wav",
        UrlPolicy(),
        folder=tmp_path,
        resolver=lambda host, port: next(answers),
        transport=route,
    )
    assert route.sent == [(PUBLIC, internal.port, f"rebind.example:{internal.port}")]
    assert len(public.requests) == 1 and internal.requests == []


@pytest.mark.parametrize("order", [[PUBLIC, "10.0.0.1"], ["127.0.0.1", PUBLIC]])
def test_a_dns_answer_mixing_public_and_internal_is_refused(
    order: list[str], public: Listener, internal: Internal, tmp_path: Path
) -> None:
    route = PublicRoute({(PUBLIC, internal.port): public.port})
    url = f"http://mixed.example:{internal.port}/x.wav"
    resolver = TableResolver({"mixed.example": order})
    refused(url, UrlPolicy(), tmp_path, resolver=resolver, transport=route)
    assert route.sent == [] and public.requests == [] and internal.requests == []


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{port}/x.wav",
        "http://[::1]:{port}/x.wav",
        "http://2130706433:{port}/x.wav",
        "http://internal.example:{port}/x.wav",
        "http://user:pw@127.0.0.1:{port}/x.wav",
        "//127.0.0.1:{port}/x.wav",
        "https://www.youtube.com/watch?v=x",
    ],
)
def test_a_redirect_to_an_internal_address_is_refused_before_connecting(
    location: str, public: Listener, internal: Internal, tmp_path: Path
) -> None:
    redirecting(public, location.format(port=internal.port), 307)
    resolver = TableResolver(
        {
            "media.example": [PUBLIC],
            "internal.example": ["10.0.0.7"],
            "www.youtube.com": [OTHER_PUBLIC],
        }
    )
    route = PublicRoute({(PUBLIC, 80): public.port})
    policy = UrlPolicy(allow_youtube=True)
    url = "http://media.example/go"
    refused(url, policy, tmp_path, resolver=resolver, transport=route)
    assert [r.path for r in public.requests] == ["/go"]
    time.sleep(0.05)
    assert internal.requests == [] and len(route.sent) == 1


def test_redirects_between_allowed_hosts_are_followed_and_each_is_checked(
    public: Listener, tmp_path: Path
) -> None:
    public.answers["/a"] = Answer(301, b"", {"Location": "http://cdn.example/b"})
    public.answers["/b"] = Answer(303, b"", {"Location": "/x.wav"})  # relative
    resolver = TableResolver({"media.example": [PUBLIC], "cdn.example": [OTHER_PUBLIC]})
    route = PublicRoute({(PUBLIC, 80): public.port, (OTHER_PUBLIC, 80): public.port})
    got = fetch_url(
        "http://media.example/a",
        UrlPolicy(max_redirects=2),
        folder=tmp_path,
        resolver=resolver,
        transport=route,
    )
    assert got.url == "http://cdn.example/x.wav" and got.path.read_bytes() == WAV
    assert resolver.calls == ["media.example", "cdn.example", "cdn.example"]
    assert [host for _, _, host in route.sent] == ["media.example", "cdn.example", "cdn.example"]
    # one redirect fewer than needed is refused
    (tmp_path / "again").mkdir()
    refused(
        "http://media.example/a",
        UrlPolicy(max_redirects=1),
        tmp_path / "again",
        resolver=resolver,
        transport=PublicRoute(route.routes),
    )


def test_with_no_redirects_allowed_the_first_is_refused(
    public: Listener, internal: Internal, tmp_path: Path
) -> None:
    redirecting(public, f"http://media.example:{public.port}/x.wav")
    route = PublicRoute({(PUBLIC, 80): public.port})
    resolver = TableResolver({"media.example": [PUBLIC]})
    error = refused(
        "http://media.example/go",
        UrlPolicy(max_redirects=0),
        tmp_path,
        resolver=resolver,
        transport=route,
    )
    assert "redirects" in error.detail and len(route.sent) == 1

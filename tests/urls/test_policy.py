"""The decision alone: parsing, spellings, address ranges, modes (no connection is made)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from emotion_clf.errors import ConfigError
from emotion_clf.urls import UrlPolicy, decide
from emotion_clf.urls.hosts import canonical_host
from tests.urls.servers import PUBLIC, TableResolver


@pytest.mark.parametrize(
    "spelling",
    ["2130706433", "0x7f000001", "0x7f.1", "0177.0.0.1", "017700000001", "127.1", "127.0.1",
     "127.000.000.001", "0", "1.2.3", "0x5d.0xb8.0xd8.0x22"],
)  # fmt: skip
def test_numeric_spellings_are_read_as_the_c_resolver_reads_them(spelling: str) -> None:
    # what getaddrinfo (so httpx, curl, urllib) connects to is what the check judges
    resolved = {a[4][0] for a in socket.getaddrinfo(spelling, 80, type=socket.SOCK_STREAM)}
    host, address = canonical_host(spelling)
    assert resolved == {host} == {str(address)}


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "not globally reachable"),  # carrier-grade NAT
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.10", ""),
        ("198.18.0.1", ""),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fd00::1", "private"),
        ("fc00::1", "private"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", ""),
        ("::ffff:127.0.0.1", "loopback (127.0.0.1 inside)"),
        ("::ffff:10.0.0.1", "private (10.0.0.1 inside)"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::10.0.0.1", "private"),  # IPv4-compatible
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of the metadata address
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", "link-local"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", ""),  # Teredo
    ],
)
def test_a_name_with_an_internal_address_is_refused(address: str, why: str) -> None:
    resolve = TableResolver({"svc.example": [address]})
    decision = decide("http://svc.example/x.wav", UrlPolicy(), resolver=resolve)
    assert not decision.allowed
    assert why in decision.reason
    assert str(ipaddress.ip_address(address.split("%")[0])) in decision.reason
    assert resolve.calls == ["svc.example"]


@pytest.mark.parametrize(
    "address",
    [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34",
     "64:ff9b::5db8:d822", "2002:5db8:d822::1"],
)  # fmt: skip
def test_a_name_with_public_addresses_is_allowed(address: str) -> None:
    resolve = TableResolver({"media.example": [address]})
    decision = decide("https://media.example/a/x.wav?t=1#f", UrlPolicy(), resolver=resolve)
    assert decision.allowed, decision.reason
    assert (decision.scheme, decision.host, decision.port) == ("https", "media.example", 443)
    assert decision.target == "/a/x.wav?t=1"  # the fragment is never sent
    assert decision.addresses == (ipaddress.ip_address(address),)


@pytest.mark.parametrize("order", [[PUBLIC, "10.0.0.1"], ["10.0.0.1", PUBLIC]])
def test_one_internal_address_among_public_ones_refuses_the_name(order: list[str]) -> None:
    resolve = TableResolver({"mixed.example": order})
    decision = decide("http://mixed.example/x.wav", UrlPolicy(), resolver=resolve)
    assert not decision.allowed and "10.0.0.1" in decision.reason


@pytest.mark.parametrize(
    "host",
    ["[fd00::1]", "[::ffff:a00:1]", "[::ffff:169.254.169.254]", "[::1]", "[0:0:0:0:0:0:0:1]",
     "[::]", "[2002:7f00:1::]", "169.254.169.254", "0251.0376.0251.0376", "2852039166"],
)  # fmt: skip
def test_address_literals_are_judged_without_resolving(host: str) -> None:
    resolve = TableResolver({})
    decision = decide(f"http://{host}/latest/meta-data/", UrlPolicy(), resolver=resolve)
    assert not decision.allowed and resolve.calls == []


@pytest.mark.parametrize(
    "url",
    ["http://user:pass@media.example/x.wav", "http://user@media.example/x.wav",
     "http://@media.example/x.wav", "http://media.example:80@media.example/x.wav",
     "https://token:@media.example/x.wav"],
)  # fmt: skip
def test_credentials_are_refused(url: str) -> None:
    resolve = TableResolver({"media.example": [PUBLIC]})
    decision = decide(url, UrlPolicy(), resolver=resolve)
    assert not decision.allowed and "credentials" in decision.reason and resolve.calls == []


BAD_URLS = [
    "http://[::1/x.wav",
    "http://xn--/x.wav",
    "http://" + "a" * 65_536 + ".example/x.wav",
    "http://media.example/" + "a" * 2_100,
    "http://xn--a-ecp.example/x.wav",  # an A-label that does not round-trip
    "http://[fe80::1%25eth0]/x.wav",
    "http://[v1.fe]/x.wav",
    "http://[::1]x/x.wav",
    "http://media.example:99999/x.wav",
    "http://media.example:0/x.wav",
    "http://media.example:8o/x.wav",
    "http://media.example:+80/x.wav",
    "http:///x.wav",
    "http://:80/x.wav",
    "http://a..b/x.wav",
    "http://1.2.3.4.5/x.wav",
    "http://08.0.0.1/x.wav",
    "http://256.0.0.1/x.wav",
    "http://0x/x.wav",
    "http://media.example\\@127.0.0.1/x.wav",
    "http://media .example/x.wav",
    "http://media.example/x.wav\r\nHost: evil",
    "http://media.exa\tmple/x.wav",
    "http://" + "a" * 64 + ".example/x.wav",
    "ftp://media.example/x.wav",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "javascript:alert(1)",
    "media.example/x.wav",
    "",
]


@pytest.mark.parametrize("url", BAD_URLS, ids=lambda u: u[:40])
def test_malformed_urls_are_refusals_not_exceptions(url: str) -> None:
    resolve = TableResolver({"media.example": [PUBLIC], "a.b": [PUBLIC]})
    decision = decide(url, UrlPolicy(), resolver=resolve)
    assert not decision.allowed
    assert resolve.calls == []
    assert len(decision.reason) < 400  # a 64 KB URL is clipped, not logged whole


def test_an_international_name_is_resolved_and_sent_as_its_a_label() -> None:
    resolve = TableResolver({"xn--bcher-kva.example": [PUBLIC]})
    decision = decide("http://Bücher.Example.:8080/x.wav", UrlPolicy(), resolver=resolve)
    assert decision.allowed
    assert resolve.calls == ["xn--bcher-kva.example"]
    assert decision.host_header == "xn--bcher-kva.example:8080"


def test_off_refuses_everything_without_resolving() -> None:
    resolve = TableResolver({"media.example": [PUBLIC]})
    policy = UrlPolicy(mode="off", allowed_hosts=("media.example",))
    for url in ("http://media.example/x.wav", f"https://{PUBLIC}/x.wav"):
        assert not decide(url, policy, resolver=resolve).allowed
    assert resolve.calls == []


def test_allow_list_matches_exact_hosts_and_still_refuses_internal_addresses() -> None:
    resolve = TableResolver({
        "media.example": [PUBLIC], "sub.media.example": [PUBLIC], "other.example": [PUBLIC],
        "store.internal": ["10.0.0.5"], "leaky.example": ["10.0.0.6"],
        "meta.internal": ["169.254.169.254"], "zero.internal": ["0.0.0.0"],
    })  # fmt: skip
    policy = UrlPolicy(
        mode="allow-list",
        allowed_hosts=("Media.Example.", "store.internal:internal", "leaky.example",
                       "meta.internal:internal", "zero.internal:internal", "[FD00::5]:internal",
                       "10.1.2.3:internal"),
    )  # fmt: skip

    def allowed(url: str) -> bool:
        return decide(url, policy, resolver=resolve).allowed

    assert allowed("http://media.example/x.wav")
    assert allowed("http://MEDIA.example./x.wav")
    assert not allowed("http://sub.media.example/x.wav")  # a subdomain is another host
    assert not allowed("http://other.example/x.wav")
    assert allowed("http://store.internal/x.wav")  # opted in
    assert not allowed("http://leaky.example/x.wav")  # listed, but not for internal addresses
    assert not allowed("http://meta.internal/x.wav")  # never, even opted in
    assert not allowed("http://zero.internal/x.wav")
    assert allowed("http://[fd00::5]/x.wav")
    assert allowed("http://167838211/x.wav")  # 10.1.2.3, another spelling of a listed address
    assert not allowed("http://10.1.2.4/x.wav")


def test_any_mode_allows_internal_hosts_but_not_the_never_allowed_ones() -> None:
    resolve = TableResolver({"nas.local": ["192.168.1.20"], "meta": ["169.254.169.254"]})
    policy = UrlPolicy(mode="any")
    assert decide("http://nas.local/x.wav", policy, resolver=resolve).allowed
    assert decide("http://127.1:8000/x.wav", policy).allowed
    assert not decide("http://meta/x.wav", policy, resolver=resolve).allowed
    assert not decide("http://0.0.0.0:8000/x.wav", policy).allowed
    assert not decide("http://u:p@127.0.0.1/x.wav", policy).allowed


@pytest.mark.parametrize(
    "url", ["https://www.youtube.com/watch?v=abc", "https://youtu.be/abc", "http://YouTube.com./x"]
)
def test_youtube_is_refused_unless_allowed(url: str) -> None:
    resolve = TableResolver({h: [PUBLIC] for h in ("www.youtube.com", "youtu.be", "youtube.com")})
    for mode in ("public", "any"):
        decision = decide(url, UrlPolicy(mode=mode), resolver=resolve)
        assert not decision.allowed and "yt-dlp" in decision.reason
    assert resolve.calls == []
    decision = decide(url, UrlPolicy(allow_youtube=True), resolver=resolve)
    assert decision.allowed and decision.youtube
    listed = UrlPolicy(mode="allow-list", allowed_hosts=("media.example",), allow_youtube=True)
    assert not decide(url, listed, resolver=resolve).allowed


def test_a_failing_resolver_is_a_refusal() -> None:
    def broken(host: str, port: int) -> list[str]:
        raise UnicodeError("label too long")

    assert not decide("http://media.example/x.wav", UrlPolicy(), resolver=broken).allowed
    assert not decide("http://nowhere.invalid/x.wav", UrlPolicy(), resolver=lambda h, p: []).allowed


@pytest.mark.parametrize(
    "kwargs",
    [{"mode": "open"}, {"schemes": frozenset({"ftp"})}, {"max_bytes": 0}, {"deadline_s": 0},
     {"max_redirects": -1}, {"allowed_hosts": ("media.example",)},
     {"mode": "allow-list", "allowed_hosts": ("media.example:8080",)},
     {"mode": "allow-list", "allowed_hosts": ("http://media.example",)},
     {"mode": "allow-list", "allowed_hosts": ("[fd00::5]:80",)}],
)  # fmt: skip
def test_a_policy_that_cannot_mean_anything_is_a_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        UrlPolicy(**kwargs)  # type: ignore[arg-type]

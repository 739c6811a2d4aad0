"""Which URLs may be fetched: a frozen :class:`UrlPolicy` and a pure :func:`decide`.

The server fetches URLs that its clients send, from inside a network the clients cannot
reach; without a policy it fetches the metadata service, a database's admin port or another
container for them (server-side request forgery). :func:`decide` parses a URL strictly,
resolves its host once and judges every address the name resolves to, so a name that answers
one public and one private address is refused (the client library might pick either). The
fetch (:mod:`.fetch`) then connects to an address that was judged, never resolving again.

Modes
-----
``off``
    Nothing is fetched (the server default where no one asked for URLs).
``public``
    Any host whose every address is globally reachable (see
    :func:`~.hosts.address_problem`).
``allow-list``
    Only the hosts listed, by exact name (case-insensitive, one trailing dot ignored; a
    subdomain is another host), and still only at public addresses. An entry written
    ``host:internal`` opts that host into internal addresses (loopback, private, unique-local,
    carrier-grade NAT): for an operator's own media store inside the network. Link-local
    (the metadata service), unspecified, multicast and reserved addresses stay refused even
    then. IP literals may be listed (``10.0.0.5:internal``, ``[fd00::5]:internal``); they
    match every spelling of that address.
``any``
    Any host at any address but the never-allowed ones: for the CLI on a user's own machine,
    which may fetch what its user asks for. Never for a server.

In every mode: only the policy's schemes (http, https), no credentials in the URL (they would
be logged and sent on redirects), no URL longer than ``max_url_chars``.

YouTube pages are fetched by yt-dlp, which opens its own connections (to hosts that YouTube's
answers name), follows its own redirects and resolves names itself: none of this policy's
checks can be applied to them. So YouTube hosts are refused unless ``allow_youtube`` is set,
and then only where the mode would allow the YouTube host itself.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from emotion_clf.errors import ConfigError
from emotion_clf.urls.errors import clip
from emotion_clf.urls.hosts import IPAddress, address_problem, canonical_host, split_authority

logger = logging.getLogger(__name__)

Mode = Literal["off", "public", "allow-list", "any"]
MODES: tuple[Mode, ...] = ("off", "public", "allow-list", "any")
Resolver = Callable[[str, int], Iterable[str]]
"""Answers the addresses of ``(host, port)`` as text; raises OSError when there are none."""

YOUTUBE_HOSTS = frozenset({"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be",
                           "music.youtube.com"})  # fmt: skip
DEFAULT_PORTS = {"http": 80, "https": 443}
INTERNAL_SUFFIX = ":internal"
# control characters, space, and DEL: urlsplit silently drops some of them (tabs, newlines),
# so what it parses would differ from what a client or a log line sees
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``socket.getaddrinfo`` gives for ``host`` (TCP), as text."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(answer[4][0]) for answer in answers]


@dataclass(frozen=True)
class UrlPolicy:
    """What may be fetched, and the bounds of a fetch. Build it at an entry point from settings.

    Parameters
    ----------
    mode
        ``off``, ``public``, ``allow-list`` or ``any``; see the module's documentation.
    allowed_hosts
        The allow-list's entries, ``host`` or ``host:internal``; only with ``allow-list``
        (or ``off``, which ignores them, so an operator can switch fetching off alone).
    max_bytes
        The most bytes one fetch saves; a larger answer is refused, not cut.
    deadline_s
        Wall-clock seconds for the whole fetch: resolving, connecting, every redirect and
        every read. A server that trickles bytes is cut when it is spent.
    max_redirects
        Redirects followed (each one judged again); 0 follows none.
    schemes
        Allowed schemes, a subset of http and https (the only ones the fetch speaks).
    allow_youtube
        Whether YouTube pages may go to yt-dlp, which this policy cannot constrain.
    max_url_chars
        Longer URLs are refused before they are parsed.

    Raises
    ------
    ConfigError
        When a value is out of range or an allow-list entry is not a host.
    """

    mode: Mode = "public"
    allowed_hosts: tuple[str, ...] = ()
    max_bytes: int = 100_000_000
    deadline_s: float = 60.0
    max_redirects: int = 3
    schemes: frozenset[str] = frozenset({"http", "https"})
    allow_youtube: bool = False
    max_url_chars: int = 2048
    _entries: dict[str, bool] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # settings may hand over lists and sets: stored frozen, so the policy stays hashable
        object.__setattr__(self, "schemes", frozenset(self.schemes))
        if self.mode not in MODES:
            raise ConfigError(f"URL policy mode {self.mode!r} is not one of {', '.join(MODES)}")
        if not self.schemes or not self.schemes <= set(DEFAULT_PORTS):
            raise ConfigError("URL policy schemes must be http and/or https")
        if self.max_bytes < 1 or self.deadline_s <= 0 or self.max_redirects < 0:
            raise ConfigError("URL policy limits must be positive (redirects: 0 or more)")
        if self.max_url_chars < 16:
            raise ConfigError("URL policy max_url_chars must be at least 16")
        if self.allowed_hosts and self.mode in ("public", "any"):
            raise ConfigError(f"allowed hosts are used in allow-list mode, not {self.mode!r}")
        object.__setattr__(self, "allowed_hosts", tuple(self.allowed_hosts))
        object.__setattr__(self, "_entries", dict(map(parse_entry, self.allowed_hosts)))

    def entry(self, host: str) -> bool | None:
        """For a canonical host: ``None`` when not listed, else whether it may be internal."""
        return self._entries.get(host)


def parse_entry(entry: str) -> tuple[str, bool]:
    """An allow-list entry as ``(canonical host, internal allowed)``.

    Raises
    ------
    ConfigError
        When the entry is not a host name or an address.
    """
    text = entry.strip().lower()
    internal = text.endswith(INTERNAL_SUFFIX)
    if internal:
        text = text[: -len(INTERNAL_SUFFIX)]
    try:
        if text.startswith("["):
            if not text.endswith("]"):
                raise ValueError("an entry names a host, not a port")
            host, _, _ = split_authority(text, default_port=80)
        else:
            host, _ = canonical_host(text)
    except ValueError as exc:
        raise ConfigError(f"URL allow-list entry {entry!r} is not a host: {exc}") from None
    return host, internal


@dataclass(frozen=True)
class UrlDecision:
    """What :func:`decide` concluded; ``reason`` is for logs (URLs in it are clipped).

    When ``allowed``, the other fields say where to connect: ``addresses`` are every
    address the host resolved to, all of them judged; ``target`` is the path and query to
    ask for; ``host`` is the canonical host name, sent as ``Host`` and as TLS SNI.
    """

    allowed: bool
    reason: str
    scheme: str = ""
    host: str = ""
    port: int = 0
    target: str = "/"
    addresses: tuple[IPAddress, ...] = ()
    youtube: bool = False

    @property
    def host_header(self) -> str:
        """The ``Host`` header: the host, bracketed when IPv6, with a port that is not the
        scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def decide(url: str, policy: UrlPolicy, *, resolver: Resolver = system_resolver) -> UrlDecision:
    """Whether ``url`` may be fetched under ``policy``, and where to connect if so.

    Pure but for ``resolver`` (called at most once, never in ``off`` mode nor for an address
    literal). Every malformed URL is a refusal, never an exception: the caller turns a
    refusal into the package's one error.

    Parameters
    ----------
    url
        The URL as the client sent it.
    policy
        What may be fetched.
    resolver
        Answers a host's addresses; :func:`system_resolver` by default, injectable so a test
        can give a name public or private addresses without a DNS server.
    """
    if policy.mode == "off":
        return UrlDecision(False, "fetching URLs is off")
    if len(url) > policy.max_url_chars:
        return _refuse(url, f"longer than {policy.max_url_chars} characters")
    if _UNSAFE.search(url):
        return _refuse(url, "a control character or space in the URL")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return _refuse(url, f"not a URL: {exc}")
    if parts.scheme not in policy.schemes:
        return _refuse(url, f"scheme {parts.scheme!r} is not one of {sorted(policy.schemes)}")
    if "@" in parts.netloc:
        return _refuse(url, "credentials in the URL")
    if "\\" in parts.netloc:
        return _refuse(url, "a backslash in the host")
    try:
        host, literal, port = split_authority(
            parts.netloc, default_port=DEFAULT_PORTS[parts.scheme]
        )
    except ValueError as exc:
        return _refuse(url, f"bad host or port: {exc}")
    youtube = host in YOUTUBE_HOSTS
    if youtube and not policy.allow_youtube:
        return _refuse(url, "a YouTube page: yt-dlp's own connections cannot be checked")
    internal_ok = policy.mode == "any"
    if policy.mode == "allow-list":
        listed = policy.entry(host)
        if listed is None:
            return _refuse(url, f"host {clip(host)} is not on the allow-list")
        internal_ok = listed
    if literal is not None:
        addresses: tuple[IPAddress, ...] = (literal,)
    else:
        try:
            addresses = _resolve(resolver, host, port)
        except (OSError, ValueError) as exc:  # UnicodeError is a ValueError
            return _refuse(url, f"host {clip(host)} does not resolve: {exc}")
    for address in addresses:
        problem = address_problem(address, internal_ok=internal_ok)
        if problem is not None:
            what = "address" if literal is not None else f"host {clip(host)} resolves to"
            return _refuse(url, f"{what} {address}: {problem}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return UrlDecision(
        True, "allowed", parts.scheme, host, port, target, addresses, youtube=youtube
    )


def _resolve(resolver: Resolver, host: str, port: int) -> tuple[IPAddress, ...]:
    found: list[IPAddress] = []
    for text in resolver(host, port):
        # a scoped IPv6 answer (fe80::1%eth0) parses with its scope and is link-local anyway
        address = ipaddress.ip_address(text)
        if address not in found:
            found.append(address)
    if not found:
        raise OSError("no address")
    return tuple(found)


def _refuse(url: str, reason: str) -> UrlDecision:
    return UrlDecision(False, f"{reason}: {clip(url)}")

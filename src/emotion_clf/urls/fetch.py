"""A bounded fetch of one URL under a :class:`~.policy.UrlPolicy`.

What it guarantees, and why:

* It connects only to an address :func:`~.policy.decide` judged, never resolving the name a
  second time: a name that answers a public address to the check and a private one to the
  connection (DNS rebinding) cannot slip past. The request goes to the address itself, with
  the original name in ``Host`` and as TLS SNI (httpcore's ``sni_hostname`` extension), so the
  server's certificate is still verified against the name.
* Redirects are followed by hand, each target judged by the same policy, up to
  ``max_redirects``; a redirect from a public host to an internal one is refused before any
  connection to it.
* One wall-clock deadline covers resolving, connecting, every redirect and every read: the
  whole fetch runs under :func:`asyncio.timeout`, which cancels a pending read, so a server
  that trickles a byte a second is cut when the deadline is spent, not after hours.
* At most ``max_bytes`` are saved; the answer is asked for uncompressed and a compressed one
  is refused, so a small answer cannot inflate on disk.
* No proxy or credentials from the environment (``trust_env=False``), no cookies kept between
  hops, no connection kept alive (a kept connection to the same address would carry the
  first host's TLS session to the next host).

Every refusal and failure raises :class:`~.errors.UrlFetchError`, whose public message is the
same whatever happened; the detail is logged here at INFO.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import urljoin, urlsplit

import httpx

from emotion_clf.urls.errors import UrlFetchError, clip
from emotion_clf.urls.hosts import IPAddress
from emotion_clf.urls.policy import (
    YOUTUBE_HOSTS,
    Resolver,
    UrlDecision,
    UrlPolicy,
    decide,
    system_resolver,
)
from emotion_clf.urls.youtube import download_youtube, require_yt_dlp

logger = logging.getLogger(__name__)

REDIRECTS = frozenset({301, 302, 303, 307, 308})
# The resolver blocks (getaddrinfo) and cannot be cancelled: it runs in threads of its own, so
# the deadline bounds the wait for it, and a hung lookup neither holds up asyncio.run's exit
# (which joins the loop's default executor) nor takes threads from other work; a few hung
# lookups make later fetches wait in this queue, under their own deadlines.
_RESOLVING = ThreadPoolExecutor(max_workers=8, thread_name_prefix="url-resolve")
_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")


@dataclass(frozen=True)
class Fetched:
    """A fetched file.

    ``content_type`` is the answer's media type, lower-cased, without parameters (empty when
    the server sent none); ``url`` is the last URL fetched, after redirects; ``via`` says
    whether the bounded HTTP fetch or yt-dlp brought it.
    """

    path: Path
    content_type: str
    size: int
    url: str
    via: Literal["http", "yt-dlp"] = "http"


def fetch_url(
    url: str,
    policy: UrlPolicy,
    *,
    folder: Path,
    content_types: Sequence[str] = (),
    resolver: Resolver = system_resolver,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Fetched:
    """:func:`fetch_url_async` for synchronous callers (the CLI, worker threads).

    It runs its own event loop, so it cannot be called from a coroutine: await
    :func:`fetch_url_async` there.
    """
    return asyncio.run(
        fetch_url_async(
            url,
            policy,
            folder=folder,
            content_types=content_types,
            resolver=resolver,
            transport=transport,
        )
    )


def _names_youtube(url: str) -> bool:
    """Whether ``url``'s host is a YouTube host, read without resolving (or raising)."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    return host in YOUTUBE_HOSTS


async def fetch_url_async(
    url: str,
    policy: UrlPolicy,
    *,
    folder: Path,
    content_types: Sequence[str] = (),
    resolver: Resolver = system_resolver,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Fetched:
    """Download ``url`` into a new file in ``folder``, within ``policy``.

    Parameters
    ----------
    url
        What the user sent.
    policy
        What may be fetched and the bounds of the fetch.
    folder
        Where the file is created (name ``fetch-*`` with the URL's suffix when it has a short
        one, else ``.download``). A failed fetch leaves nothing there.
    content_types
        Media-type prefixes accepted (``("audio/", "video/")``); empty accepts any. Checked
        before the body is read, and refused with the same public message as everything
        else, so the answer does not say what kind of service is behind an address.
    resolver
        Answers a host's addresses; tests inject one to give a name a public address.
    transport
        Sends the requests; ``None`` builds a plain one. A test may pass a transport that
        takes what is addressed to a checked "public" address to a local listener instead;
        the policy still judges every URL and address first.

    Raises
    ------
    UrlFetchError
        For every refusal and failure; ``detail`` says which.
    FeatureUnavailableError
        When YouTube is allowed but yt-dlp is not installed (a setup fault, the same for
        every URL, so it tells a client nothing about a target).
    """
    deadline = time.monotonic() + policy.deadline_s
    if policy.allow_youtube and _names_youtube(url):
        require_yt_dlp()
    try:
        try:
            async with asyncio.timeout(policy.deadline_s):
                decision = await _judge(url, policy, resolver)
                if not decision.youtube:
                    return await _download(
                        url, decision, policy, folder, content_types, resolver, transport
                    )
        except TimeoutError:
            raise UrlFetchError(
                f"not done within the deadline of {policy.deadline_s:g} s: {clip(url)}"
            ) from None
        # yt-dlp blocks in a thread that a timeout could not stop: it gets the deadline and
        # stops itself (see .youtube), and the thread is awaited so no download outlives it
        path, size = await asyncio.to_thread(
            download_youtube, url, policy=policy, folder=folder, deadline=deadline
        )
        return Fetched(path, "", size, url, via="yt-dlp")
    except UrlFetchError as exc:
        logger.info("URL not fetched: %s", exc.detail)
        raise


async def _judge(url: str, policy: UrlPolicy, resolver: Resolver) -> UrlDecision:
    loop = asyncio.get_running_loop()
    decision = await loop.run_in_executor(
        _RESOLVING, functools.partial(decide, url, policy, resolver=resolver)
    )
    if not decision.allowed:
        raise UrlFetchError(decision.reason)
    logger.debug("fetching %s from %s", clip(url), ", ".join(map(str, decision.addresses)))
    return decision


async def _download(
    url: str,
    decision: UrlDecision,
    policy: UrlPolicy,
    folder: Path,
    content_types: Sequence[str],
    resolver: Resolver,
    transport: httpx.AsyncBaseTransport | None,
) -> Fetched:
    path = _new_file(folder, url)
    try:
        async with _client(policy, transport) as client:
            for hop in range(policy.max_redirects + 1):
                async with _get(client, decision, url) as response:
                    if response.status_code not in REDIRECTS:
                        content_type = _check_answer(response, policy, content_types, url)
                        size = await _save(response, path, policy.max_bytes, url)
                        return Fetched(path, content_type, size, url)
                    if hop == policy.max_redirects:
                        break
                    url = _location(url, response)
                decision = await _judge(url, policy, resolver)
                if decision.youtube:
                    raise UrlFetchError(f"a redirect to a YouTube page: {clip(url)}")
        raise UrlFetchError(f"more than {policy.max_redirects} redirects: {clip(url)}")
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _new_file(folder: Path, url: str) -> Path:
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    suffix = suffix if _SUFFIX.fullmatch(suffix) else ".download"
    handle, name = tempfile.mkstemp(prefix="fetch-", suffix=suffix, dir=folder)
    os.close(handle)
    return Path(name)


def _client(policy: UrlPolicy, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    plain = httpx.AsyncHTTPTransport(
        trust_env=False, retries=0, limits=httpx.Limits(max_keepalive_connections=0)
    )
    return httpx.AsyncClient(
        transport=transport or plain,
        trust_env=False,  # no proxies, no certificate settings from the environment
        follow_redirects=False,
        timeout=httpx.Timeout(policy.deadline_s),
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),  # keeps none
        headers={"Accept-Encoding": "identity"},
    )


@asynccontextmanager
async def _get(
    client: httpx.AsyncClient, decision: UrlDecision, url: str
) -> AsyncIterator[httpx.Response]:
    """The answer's head from the first address that accepts a connection."""
    failures: list[str] = []
    response: httpx.Response | None = None
    try:
        for address in decision.addresses:
            request = client.build_request(
                "GET",
                _pinned(decision, address),
                headers={"Host": decision.host_header},
                extensions={"sni_hostname": decision.host} if decision.scheme == "https" else {},
            )
            try:
                response = await client.send(request, stream=True)
                break
            except httpx.ConnectError as exc:
                failures.append(f"{address}: {exc}")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise UrlFetchError(f"{type(exc).__name__}: {exc}: {clip(url)}") from exc
    if response is None:
        raise UrlFetchError(f"no connection ({'; '.join(failures)}): {clip(url)}")
    try:
        yield response
    except httpx.HTTPError as exc:
        raise UrlFetchError(f"{type(exc).__name__}: {exc}: {clip(url)}") from exc
    finally:
        await response.aclose()


def _pinned(decision: UrlDecision, address: IPAddress) -> str:
    host = f"[{address}]" if address.version == 6 else str(address)
    return f"{decision.scheme}://{host}:{decision.port}{decision.target}"


def _location(url: str, response: httpx.Response) -> str:
    location = response.headers.get("location", "")
    if not location:
        raise UrlFetchError(f"HTTP {response.status_code} without a Location: {clip(url)}")
    try:
        return urljoin(url, location)
    except ValueError as exc:
        raise UrlFetchError(f"a bad redirect Location ({exc}): {clip(location)}") from None


def _check_answer(
    response: httpx.Response, policy: UrlPolicy, content_types: Sequence[str], url: str
) -> str:
    status = response.status_code
    if status != 200:
        raise UrlFetchError(f"HTTP {status}: {clip(url)}")
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        raise UrlFetchError(f"a compressed answer ({clip(encoding, 40)}): {clip(url)}")
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > policy.max_bytes:
        raise UrlFetchError(f"{length} bytes, over {policy.max_bytes}: {clip(url)}")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_types and not content_type.startswith(tuple(content_types)):
        raise UrlFetchError(f"content type {clip(content_type, 60)!r} refused: {clip(url)}")
    return content_type


async def _save(response: httpx.Response, path: Path, max_bytes: int, url: str) -> int:
    # synchronous writes of one network chunk (at most 64 KiB) each: short next to the read
    size = 0
    with path.open("wb") as handle:
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > max_bytes:
                raise UrlFetchError(f"more than {max_bytes} bytes: {clip(url)}")
            handle.write(chunk)
    return size

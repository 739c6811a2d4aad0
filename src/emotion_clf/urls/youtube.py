"""YouTube pages through yt-dlp, as bounded as yt-dlp lets them be.

yt-dlp resolves names and opens connections itself, to the hosts that YouTube's own answers
name, and follows its own redirects: the policy's address checks and the pinned connection of
:mod:`.fetch` cannot be applied to any of that. That is why :func:`~.policy.decide` refuses
YouTube hosts unless the policy's ``allow_youtube`` is set. What can be bounded is bounded here:
only yt-dlp's YouTube video extractor is loaded (not its generic one, which would fetch any
URL a page names), no playlist, no proxy from the environment, no retries, a socket timeout,
and a progress hook that stops the download past ``max_bytes`` or the deadline. The deadline is
kept between reads, not within one: a stalled read may outlast it by the socket timeout.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from emotion_clf.errors import FeatureUnavailableError
from emotion_clf.urls.errors import UrlFetchError, clip
from emotion_clf.urls.policy import UrlPolicy

logger = logging.getLogger(__name__)

MAX_SOCKET_TIMEOUT_S = 30.0


def require_yt_dlp() -> Any:
    """The yt-dlp module, or :class:`FeatureUnavailableError` saying what to install: checked
    before the URL is even resolved, so a machine without yt-dlp (and perhaps without the
    internet) says what it lacks rather than that a name does not resolve."""
    try:
        import yt_dlp
    except ImportError:
        raise FeatureUnavailableError(
            "a YouTube page needs yt-dlp (pip install yt-dlp) and access to the internet"
        ) from None
    return yt_dlp


def download_youtube(
    url: str, *, policy: UrlPolicy, folder: Path, deadline: float
) -> tuple[Path, int]:
    """The audio of the YouTube page ``url`` (already allowed by the policy) and its size.

    Parameters
    ----------
    url
        A YouTube video page the policy allowed.
    policy
        Its ``max_bytes`` bounds the file.
    folder
        Where a new sub-folder receives the file; a failure leaves nothing there.
    deadline
        ``time.monotonic()`` value past which the download is stopped.

    Raises
    ------
    FeatureUnavailableError
        When yt-dlp is not installed.
    UrlFetchError
        When yt-dlp fails, or the file is too large or late.
    """
    yt_dlp = require_yt_dlp()
    cancelled = yt_dlp.utils.DownloadCancelled

    def bounds(progress: dict[str, Any]) -> None:
        if time.monotonic() > deadline:
            raise cancelled(f"past the deadline of {policy.deadline_s:g} s")
        if (progress.get("downloaded_bytes") or 0) > policy.max_bytes:
            raise cancelled(f"more than {policy.max_bytes} bytes")

    def before_download(info: dict[str, Any], *, incomplete: bool = False) -> str | None:
        bounds({})
        size = info.get("filesize") or info.get("filesize_approx") or 0
        return f"about {size} bytes, over {policy.max_bytes}" if size > policy.max_bytes else None

    target = Path(tempfile.mkdtemp(prefix="youtube-", dir=folder))
    options: dict[str, Any] = {
        "format": "bestaudio/best",
        "outtmpl": str(target / "%(id)s.%(ext)s"),
        "allowed_extractors": ["youtube"],  # the video page only: no generic extractor
        "noplaylist": True,
        "proxy": "",  # a direct connection: no proxy from the environment
        "socket_timeout": max(1.0, min(MAX_SOCKET_TIMEOUT_S, deadline - time.monotonic())),
        "max_filesize": policy.max_bytes,
        "retries": 0,
        "fragment_retries": 0,
        "extractor_retries": 0,
        "progress_hooks": [bounds],
        "match_filter": before_download,
        "quiet": True,
        "noprogress": True,
        "logger": logger,
    }
    try:
        with yt_dlp.YoutubeDL(options) as downloader:
            downloader.extract_info(url, download=True)
        files = sorted((p for p in target.iterdir() if p.is_file()), key=lambda p: p.stat().st_size)
        if not files:
            raise UrlFetchError(f"yt-dlp saved nothing: {clip(url)}")
        path, size = files[-1], files[-1].stat().st_size
        if size > policy.max_bytes:
            raise UrlFetchError(f"yt-dlp saved {size} bytes, over {policy.max_bytes}: {clip(url)}")
    except yt_dlp.utils.YoutubeDLError as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise UrlFetchError(f"yt-dlp: {clip(str(exc))}: {clip(url)}") from exc
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return path, size

"""Errors of the model runtime, and what a client may read of any error.

The HTTP layer (:mod:`emotion_clf.serving.http.errors`) turns them into answers; nothing here
knows about HTTP beyond the status code an error carries.
"""

from __future__ import annotations

import re
from typing import Any

from emotion_clf.errors import EmotionClfError

_USERINFO = re.compile(r"://[^/@\s]+@")
# an absolute path standing alone (not the path of a URL): kept as its last component
_PATH = re.compile(r"(?<![\w:/.~-])/(?:[^\s/:;,'\"()\[\]]+/)+([^\s/:;,'\"()\[\]]*)")


def redact(text: str) -> str:
    """Remove credentials from any URL in a message before it leaves the server."""
    return _USERINFO.sub("://***@", text)


def scrub(text: str) -> str:
    """``text`` fit for an API client: no credentials, and server paths cut to their last
    component (``/srv/cache/v3-ab12: checksum mismatch`` becomes ``v3-ab12: ...``)."""
    return _PATH.sub(lambda m: m.group(1) or "/", redact(text))


def public_text(exc: BaseException) -> str:
    """What a client may read of an error: a package error's message without its internal
    detail (SQL, a library's URL, paths), scrubbed; of anything else only its class. The
    log keeps the whole text."""
    if isinstance(exc, EmotionClfError):
        return scrub(exc.public)
    return f"an internal error ({type(exc).__name__})"


class RefreshError(EmotionClfError):
    """A refresh did not swap in a new model; the previous one keeps serving."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int,
        previous_version: str | None,
        current_version: str | None,
        duration_s: float,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.previous_version = previous_version
        self.current_version = current_version
        self.duration_s = duration_s

    def details(self) -> dict[str, Any]:
        """The fields :class:`~emotion_clf.contracts.RefreshFailure` adds to the error body."""
        return {
            "previous_version": self.previous_version,
            "current_version": self.current_version,
            "swapped": False,
            "duration_s": round(self.duration_s, 4),
        }


class BusyError(EmotionClfError):
    """Every slot of a bounded resource (URL downloads, say) is taken: try again shortly."""

    http_status = 503

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after_s)}

"""The one error of :mod:`emotion_clf.urls`: the same public words for every URL not fetched.

Whoever sends a URL to the server must not learn what is behind an address: a closed port, a
timeout, an HTTP status or a service that is not media would otherwise tell them apart, and
the fetcher would become a port scanner of the server's network. So every refusal and every
failed fetch raises :class:`UrlFetchError` with one fixed public message; what happened goes
in :attr:`UrlFetchError.detail`, for the server's log (and for batch inference on the
command line, whose user owns the machine: its bad-row reason quotes the detail).
"""

from __future__ import annotations

from emotion_clf.errors import DataError

PUBLIC_MESSAGE = "the URL could not be fetched"
CLIP = 200


def clip(text: str, limit: int = CLIP) -> str:
    """``text`` cut to ``limit`` characters, with how long it was, safe to log or show.

    URLs come from clients and may be 64 KB long or hold control characters: a log line or
    an error quoting one whole would let a client fill the log or forge lines in it.
    """
    shown = text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
    return ascii(shown)[1:-1]


class UrlFetchError(DataError):
    """A URL was refused by the policy or could not be fetched (HTTP 422 through ``DataError``).

    ``str(error)`` and :attr:`public` are different on purpose, as for every
    :class:`~emotion_clf.errors.EmotionClfError` with a ``detail``: the HTTP error handler
    answers :attr:`public` (always :data:`PUBLIC_MESSAGE`), while logs print ``str(error)``,
    which adds the detail. No URL and no value is echoed in the public part.

    Parameters
    ----------
    detail
        Why, for the log: the policy's reason or what the fetch met (clipped by the caller
        where it quotes a URL).
    """

    detail: str  # never None here, unlike the root's

    def __init__(self, detail: str) -> None:
        super().__init__(PUBLIC_MESSAGE, field="url")
        self.detail = detail
        self.args = (f"{PUBLIC_MESSAGE} ({detail})",)

    def to_dict(self) -> dict[str, object]:
        """As :meth:`DataError.to_dict`, with the public message only."""
        return {**super().to_dict(), "message": PUBLIC_MESSAGE}

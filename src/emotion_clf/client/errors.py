"""The API client's faults, one class each, so a caller can say exactly what went wrong.

None of them is a :class:`~emotion_clf.errors.DataError`: a server that cannot be reached, or
a proxy's error page, says nothing about the caller's input, so it must never become a 422 or
a "bad row". All carry the URL they concern; messages are one line, never a traceback.
"""

from __future__ import annotations

from emotion_clf.errors import EmotionClfError


class ApiError(EmotionClfError):
    """A call to an emotion-clf server failed; ``url`` is what was called."""

    http_status = 502  # seen from a server that called another one: a bad gateway

    def __init__(self, message: str, *, url: str, detail: str | None = None) -> None:
        self.url = url
        super().__init__(message, detail=detail)


class ApiUnreachableError(ApiError):
    """No connection: refused, no route, a name that does not resolve, a TLS failure."""


class ApiTimeoutError(ApiError):
    """The server did not answer within the client's timeout."""

    http_status = 504


class ApiNotJsonError(ApiError):
    """The answer is not JSON: a proxy's or gateway's error page, or not this API at all."""

    def __init__(
        self, message: str, *, url: str, status_code: int, content_type: str, snippet: str
    ) -> None:
        self.status_code = status_code
        self.content_type = content_type
        self.snippet = snippet
        super().__init__(message, url=url)


class ApiAnswerError(ApiError):
    """The server answered with its error body (4xx or 5xx): its reason, the field it names
    where it names one (``texts[17]``), and the whole decoded body (``body``) for callers that
    read a richer error answer (a refresh failure's versions)."""

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status_code: int,
        reason: str,
        request_id: str | None = None,
        field: str | None = None,
        body: object = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.reason = reason
        self.request_id = request_id
        self.field = field
        super().__init__(message, url=url)


class ApiContractError(ApiError):
    """The answer is JSON but not the shape this client expects (another version of the API,
    or another service)."""

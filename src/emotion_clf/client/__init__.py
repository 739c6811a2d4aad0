"""The typed client of this project's own API (:class:`ApiClient`), and its faults: no
connection, no answer in time, an answer that is not JSON, the server's error body, or JSON
of another shape, each its own :class:`ApiError`."""

from __future__ import annotations

from emotion_clf.client.api import ApiClient, answer_error, read_answer
from emotion_clf.client.errors import (
    ApiAnswerError,
    ApiContractError,
    ApiError,
    ApiNotJsonError,
    ApiTimeoutError,
    ApiUnreachableError,
)

__all__ = [
    "ApiAnswerError",
    "ApiClient",
    "ApiContractError",
    "ApiError",
    "ApiNotJsonError",
    "ApiTimeoutError",
    "ApiUnreachableError",
    "answer_error",
    "read_answer",
]

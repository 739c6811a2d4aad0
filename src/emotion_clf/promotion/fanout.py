"""Telling every API server to reload: ``POST /refresh-model`` on each endpoint.

Endpoints are called concurrently, each with a timeout and retries with exponential backoff
on connection errors and 5xx answers. A 4xx (a wrong token, say) is not retried. Nothing here
raises for an endpoint that fails: the results say what happened to each.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from emotion_clf.client import (
    ApiAnswerError,
    ApiClient,
    ApiContractError,
    ApiError,
    ApiNotJsonError,
    ApiTimeoutError,
    ApiUnreachableError,
)
from emotion_clf.contracts import RefreshAnswer, RefreshFailure

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshResult:
    """What one endpoint answered: the server's typed answer, or why there is none."""

    endpoint: str
    ok: bool
    status_code: int | None
    attempts: int
    answer: RefreshAnswer | None = None  # the server's answer when ok
    failure: RefreshFailure | None = None  # the server's error answer, when it sent one
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        detail = self.answer or self.failure
        return {
            "endpoint": self.endpoint,
            "ok": self.ok,
            "status_code": self.status_code,
            "attempts": self.attempts,
            "detail": detail.model_dump() if detail is not None else None,
            "error": self.error,
        }

    def describe(self) -> str:
        if self.answer is not None:
            a = self.answer
            return (
                f"refreshed: version {a.previous_version} -> {a.current_version} "
                f"(swapped: {a.swapped})"
            )
        return self.error or f"HTTP {self.status_code}"


def refresh_endpoint(
    endpoint: str,
    *,
    token: str | None,
    timeout_s: float,
    retries: int,
    backoff_s: float = 0.5,
) -> RefreshResult:
    attempts = 0
    error: str | None = None
    status: int | None = None
    failure: RefreshFailure | None = None
    try:
        client = ApiClient(endpoint, token=token, timeout_s=timeout_s)
    except ApiError as exc:  # not a URL at all
        return RefreshResult(endpoint, False, None, 0, error=exc.message)
    with client:
        while attempts <= retries:
            attempts += 1
            try:
                answer = client.refresh(path="")
            except (ApiUnreachableError, ApiTimeoutError) as exc:
                error = exc.message
            except ApiAnswerError as exc:  # the server's own error body
                status = exc.status_code
                failure = _failure(exc)
                error = f"HTTP {status}: {exc.reason}"
                if status < 500:
                    break  # the request itself is wrong; retrying will not help
            except ApiNotJsonError as exc:  # a proxy's page: the server behind may come back
                status = exc.status_code
                error = f"HTTP {status}: {exc.snippet or exc.content_type or 'not JSON'}"
                if status < 500:
                    break
            except ApiContractError as exc:
                error = f"not a refresh answer: {exc.message}"
                break  # not an emotion-clf server (or another version of it)
            else:
                return RefreshResult(endpoint, True, 200, attempts, answer=answer)
            if attempts <= retries:
                time.sleep(backoff_s * 2 ** (attempts - 1))
    logger.info("refresh of %s failed after %d attempt(s): %s", endpoint, attempts, error)
    return RefreshResult(endpoint, False, status, attempts, failure=failure, error=error)


def _failure(exc: ApiAnswerError) -> RefreshFailure | None:
    """The server's refresh failure, with the versions it reports; None for another error
    body (a gateway's JSON, say)."""
    try:
        return RefreshFailure.model_validate(exc.body)
    except ValidationError:
        return None


def fan_out(
    endpoints: Sequence[str],
    *,
    token: str | None,
    timeout_s: float = 30.0,
    retries: int = 3,
    backoff_s: float = 0.5,
) -> list[RefreshResult]:
    """Refresh every endpoint concurrently; results in the order of ``endpoints``."""
    if not endpoints:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(endpoints))) as pool:
        futures = [
            pool.submit(
                refresh_endpoint,
                e,
                token=token,
                timeout_s=timeout_s,
                retries=retries,
                backoff_s=backoff_s,
            )
            for e in endpoints
        ]
        return [f.result() for f in futures]

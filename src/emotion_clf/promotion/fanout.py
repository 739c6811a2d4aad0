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

import httpx
from pydantic import ValidationError

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


def _describe_http_error(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect ({exc}); is the server running?"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}"


def refresh_endpoint(
    endpoint: str,
    *,
    token: str | None,
    timeout_s: float,
    retries: int,
    backoff_s: float = 0.5,
) -> RefreshResult:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    attempts = 0
    error: str | None = None
    status: int | None = None
    failure: RefreshFailure | None = None
    with httpx.Client(timeout=timeout_s) as client:
        while attempts <= retries:
            attempts += 1
            try:
                response = client.post(endpoint, headers=headers)
            except httpx.HTTPError as exc:
                error = _describe_http_error(exc)
            else:
                status = response.status_code
                if response.is_success:
                    try:
                        answer = RefreshAnswer.model_validate_json(response.content)
                    except ValidationError as exc:
                        error = f"HTTP {status} but not a refresh answer: {_first_error(exc)}"
                        break  # not an emotion-clf server (or another version of it)
                    return RefreshResult(endpoint, True, status, attempts, answer=answer)
                failure = _failure(response)
                error = f"HTTP {status}: {failure.detail if failure else response.text[:300]}"
                if status < 500:
                    break  # the request itself is wrong; retrying will not help
            if attempts <= retries:
                time.sleep(backoff_s * 2 ** (attempts - 1))
    logger.info("refresh of %s failed after %d attempt(s): %s", endpoint, attempts, error)
    return RefreshResult(endpoint, False, status, attempts, failure=failure, error=error)


def _failure(response: httpx.Response) -> RefreshFailure | None:
    try:
        return RefreshFailure.model_validate_json(response.content)
    except ValidationError:
        return None  # a proxy's error page, say: the caller shows its text


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(map(str, first['loc'])) or 'body'}: {first['msg']}"


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

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
from dataclasses import asdict, dataclass
from typing import Any

import httpx

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefreshResult:
    endpoint: str
    ok: bool
    status_code: int | None
    attempts: int
    detail: Any = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        if self.ok:
            detail = self.detail if isinstance(self.detail, dict) else {}
            return (
                f"refreshed: version {detail.get('previous_version')} -> "
                f"{detail.get('current_version')} (swapped: {detail.get('swapped')})"
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
    detail: Any = None
    with httpx.Client(timeout=timeout_s) as client:
        while attempts <= retries:
            attempts += 1
            try:
                response = client.post(endpoint, headers=headers)
            except httpx.HTTPError as exc:
                error = _describe_http_error(exc)
            else:
                status = response.status_code
                try:
                    detail = response.json()
                except ValueError:
                    detail = response.text[:300]
                if response.is_success:
                    return RefreshResult(endpoint, True, status, attempts, detail)
                message = detail.get("detail") if isinstance(detail, dict) else detail
                error = f"HTTP {status}: {message}"
                if status < 500:
                    break  # the request itself is wrong; retrying will not help
            if attempts <= retries:
                time.sleep(backoff_s * 2 ** (attempts - 1))
    logger.info("refresh of %s failed after %d attempt(s): %s", endpoint, attempts, error)
    return RefreshResult(endpoint, False, status, attempts, detail, error)


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

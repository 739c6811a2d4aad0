"""Chromium driven by Playwright, for the web app's tests: the system's browser (no download),
every request that is not to the server under test aborted and recorded, every console error
and page error recorded."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pytest

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = playwright_api.expect


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does)")
    return found


@dataclass
class Watch:
    """What a page did that a test must see: requests elsewhere, console errors."""

    elsewhere: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def errors_except(self, *expected: str) -> list[str]:
        return [e for e in self.errors if not any(x in e for x in expected)]


@contextmanager
def launched() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def watched_page(browser: object, base_url: str) -> Iterator[tuple[object, Watch]]:
    """A fresh page on ``base_url``: requests to any other host are aborted and recorded."""
    watch = Watch()
    server = urlparse(base_url).netloc
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=base_url, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )

    def route(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if urlparse(url).scheme in ("data", "blob") or urlparse(url).netloc == server:
            route.continue_()  # type: ignore[attr-defined]
        else:
            watch.elsewhere.append(url)
            route.abort()  # type: ignore[attr-defined]

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(f"page error: {e}"))
    try:
        yield page, watch
    finally:
        context.close()

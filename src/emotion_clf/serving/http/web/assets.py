"""The web app's files, shipped as package data and read once, with the headers they go out with.

Every script, style sheet and icon the pages load is one of these files: nothing comes from a
CDN, so the app works on a machine with no internet access. A page may load only what its own
server sends (``CONTENT_SECURITY_POLICY``), and no script is inline, so a text that reaches a
page as HTML could not run even if a bug let it through (the scripts set ``textContent`` only).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

# 'self' only: scripts, styles, fetches, images, fonts; no plugin, no framing, no <base>
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; media-src 'self' blob:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
PAGES = {"analyse": "analyse.html", "production": "production.html"}


@dataclass(frozen=True)
class Asset:
    name: str
    body: bytes
    media_type: str


@cache
def assets() -> dict[str, Asset]:
    """Every shipped file by name (read once: a dozen small files)."""
    folder = resources.files(__package__).joinpath("static")
    found: dict[str, Asset] = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in MEDIA_TYPES:
            found[entry.name] = Asset(entry.name, entry.read_bytes(), MEDIA_TYPES[suffix])
    return found


def asset(name: str) -> Asset | None:
    """A shipped file by its name, or None (never a path: nothing outside the folder)."""
    return assets().get(name)

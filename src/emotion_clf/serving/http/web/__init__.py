"""The web app the API server serves: the analyse page (``/``) and the production page.

Plain HTML, CSS and JavaScript shipped as package data (:mod:`.assets`), so every deployment of
the server carries it and it needs no internet access; the pages call the API's own routes.
The Python here gathers what the production page shows (:mod:`.production`, :mod:`.traffic`).
"""

from __future__ import annotations

from emotion_clf.serving.http.web.assets import (
    CONTENT_SECURITY_POLICY,
    PAGES,
    SECURITY_HEADERS,
    Asset,
    asset,
    assets,
)
from emotion_clf.serving.http.web.production import PARTS, gather, production_state
from emotion_clf.serving.http.web.traffic import TrafficWindow

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "PAGES",
    "PARTS",
    "SECURITY_HEADERS",
    "Asset",
    "TrafficWindow",
    "asset",
    "assets",
    "gather",
    "production_state",
]

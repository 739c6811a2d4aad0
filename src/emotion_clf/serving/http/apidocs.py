"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), with every script and style served by the
package: they render on a machine with no internet access.

FastAPI's own pages load Swagger UI and ReDoc from a CDN (jsdelivr), so offline they are blank.
The assets come from ``fastapi-offline`` (its ``static/`` folder: Swagger UI 5, ReDoc 2 and
FastAPI's favicon), served here with FastAPI's own page builders. Not its ``FastAPIOffline``
factory: the app is a subclass of its own (:class:`~.app.ServingApp`). Not
``swagger-ui-bundle`` either: the 1.1.0 release ships Swagger UI 4.15, which cannot render
the OpenAPI 3.1 document FastAPI writes, and no ReDoc.

Swagger UI's validator badge is switched off (``validatorUrl: null``): it would send the
document to validator.swagger.io. ReDoc is built without Google Fonts.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs/assets"


def install_docs(app: FastAPI) -> None:
    """Add ``/docs``, ``/redoc`` and their assets to ``app`` (created with ``docs_url=None``
    and ``redoc_url=None``, so that FastAPI's CDN pages are not there)."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    def url(request: Request, path: str) -> str:
        return f"{request.scope.get('root_path', '')}{path}"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=url(request, app.openapi_url or "/openapi.json"),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=url(request, f"{ASSETS_URL}/swagger-ui-bundle.js"),
            swagger_css_url=url(request, f"{ASSETS_URL}/swagger-ui.css"),
            swagger_favicon_url=url(request, f"{ASSETS_URL}/favicon.png"),
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=url(request, app.openapi_url or "/openapi.json"),
            title=f"{app.title} - ReDoc",
            redoc_js_url=url(request, f"{ASSETS_URL}/redoc.standalone.js"),
            redoc_favicon_url=url(request, f"{ASSETS_URL}/favicon.png"),
            with_google_fonts=False,
        )

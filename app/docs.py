"""Swagger UI (``/docs``) and ReDoc (``/redoc``) served with no internet.

FastAPI's own pages load their scripts and styles from a CDN, so on a machine without internet
they stay blank. These are the same pages (FastAPI's documented way: the built-in pages turned
off, ``get_swagger_ui_html``/``get_redoc_html`` pointed at local files), with the files served
by the app from the ``fastapi-offline`` package, which ships Swagger UI's and ReDoc's bundles.
"""

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"
ASSETS_DIR = str(files("fastapi_offline") / "static")
"""swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js and favicon.png."""


def install_docs(app: FastAPI, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Serve the two documentation pages and their files on ``app`` (built with
    ``docs_url=None, redoc_url=None``, so that FastAPI adds no CDN-bound pages of its own)."""
    assert app.docs_url is None and app.redoc_url is None, "turn FastAPI's own pages off first"
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    @app.get(docs_url, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")  # behind a proxy that serves the app under it
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{oauth2_redirect_url}",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(oauth2_redirect_url, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(redoc_url, include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            # The default pulls fonts from Google: ReDoc falls back to the system's fonts.
            with_google_fonts=False,
        )

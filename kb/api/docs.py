"""``/docs`` (Swagger UI) and ``/redoc`` served offline, from a package's files.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, which a city's closed network
(LGWAN) cannot reach: the page stays blank. Here the JavaScript and CSS come from the
``fastapi-offline`` package (a pinned dependency that ships Swagger UI 5 and ReDoc 2, the
files FastAPI's self-hosting recipe asks for), served by :data:`router` under
``/static/docs-ui/``. Only that package's directory is read, and only the files named in
:data:`ASSETS`.

The pages hold no inline script (Swagger UI starts from ``/static/swagger-init.js``; ReDoc
reads its ``<redoc spec-url>`` element), so they run under a Content-Security-Policy as strict
as the console's; ReDoc's styles and web worker need ``'unsafe-inline'`` styles and
``blob:`` workers. Every URL in them is relative, so they work under a reverse proxy's
sub-path (:mod:`kb.api.rootpath`).
"""

from __future__ import annotations

import functools
import html
import importlib.util
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from kb.errors import KBError

ASSET_PACKAGE = "fastapi_offline"
ASSET_PREFIX = "/static/docs-ui"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
"""The files served from the package, with their media types; nothing else is."""

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Swagger UI and ReDoc set styles from script; scripts stay 'self' only.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        # ReDoc searches in a web worker it starts from a blob.
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


@functools.cache
def asset_dir() -> Path:
    """The installed package's folder of Swagger UI and ReDoc files.

    Raises:
        KBError: When the package is not installed (how to install it is in the message).
    """
    spec = importlib.util.find_spec(ASSET_PACKAGE)
    folder = None
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    if folder is None or not (folder / "swagger-ui-bundle.js").is_file():
        raise KBError(
            "the API documentation pages need the fastapi-offline package: "
            "pip install fastapi-offline (scripts/setup.sh installs it)"
        )
    return folder


def _page(title: str, head: str, body: str) -> HTMLResponse:
    text = (
        '<!doctype html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f'<link rel="icon" href="static/docs-ui/favicon.png">\n{head}</head>\n'
        f"<body>\n{body}</body>\n</html>\n"
    )
    return HTMLResponse(text, headers=HEADERS)


def docs_title(app_title: str, page: str) -> str:
    """The ``<title>`` of a documentation page."""
    return f"{app_title} — {page}"


def swagger_page(app_title: str) -> HTMLResponse:
    """Swagger UI, reading ``openapi.json`` beside the page."""
    return _page(
        docs_title(app_title, "API (Swagger UI)"),
        '<link rel="stylesheet" href="static/docs-ui/swagger-ui.css">\n',
        '<div id="swagger-ui"></div>\n'
        '<script src="static/docs-ui/swagger-ui-bundle.js"></script>\n'
        '<script src="static/swagger-init.js" data-openapi="openapi.json"></script>\n',
    )


def redoc_page(app_title: str) -> HTMLResponse:
    """ReDoc, reading ``openapi.json`` beside the page."""
    return _page(
        docs_title(app_title, "API (ReDoc)"),
        "<style>body { margin: 0; padding: 0; }</style>\n",
        '<redoc spec-url="openapi.json"></redoc>\n'
        '<script src="static/docs-ui/redoc.standalone.js"></script>\n',
    )


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI: the API's operations, to read and to try with an API key."""
    return swagger_page(request.app.title)


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc: the same API reference as one long page."""
    return redoc_page(request.app.title)


@router.get(ASSET_PREFIX + "/{name}")
def docs_asset(name: str) -> FileResponse:
    """One of :data:`ASSETS` from the installed package (cached a day: it changes with it)."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail=f"no documentation file {name!r}")
    return FileResponse(
        asset_dir() / name,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400"},
    )

"""HTML pages and the widget script (plain HTML/CSS/JS from ``kb/api/static``, no build step).

Every URL in the pages is relative (``static/console.css``, ``api/v1/search``), so they work
at the site root and under a reverse proxy's sub-path alike (:mod:`kb.api.rootpath`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)

# The console is one page; a detail view is a fragment (#faq/F0001) of it, so reloads work.
_NO_STORE = {"Cache-Control": "no-cache"}


@router.get("/staff")
def staff_console() -> FileResponse:
    """The staff console: a public shell (login form, no data); its data API needs a key."""
    return FileResponse(STATIC_DIR / "staff.html", media_type="text/html", headers=_NO_STORE)


@router.get("/staff/")
def staff_console_slash() -> RedirectResponse:
    # Relative, never a URL built from the request's Host (kb.api.redirects), and never an
    # absolute path either: behind a proxy's sub-path (/faq/staff/) "/staff" would leave it.
    return RedirectResponse("../staff")


@router.get("/public/widget.js")
def widget_script() -> FileResponse:
    """The embeddable FAQ widget: ``<script src=".../public/widget.js" data-kb-endpoint=...>``."""
    return FileResponse(
        STATIC_DIR / "widget.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/public/widget-demo")
def widget_demo() -> FileResponse:
    """A plain page with the widget on it, to try the widget without a city web page."""
    return FileResponse(STATIC_DIR / "widget-demo.html", media_type="text/html")

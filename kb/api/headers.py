"""Security headers: the key lives in the page's ``sessionStorage``, so script injection and
framing are what would expose it; case data must not linger in caches.

* every response: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``;
* the page shells (``/staff``, ``/trainer``, ``/admin``, ``/briefs``, and their files under
  ``/static/``): a Content-Security-Policy that runs
  only the app's own scripts, connects only to the app and cannot be framed (clickjacking);
* ``/api/v1/*``: ``Cache-Control: no-store`` unless the route set its own.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGES = ("/staff", "/trainer", "/admin", "/briefs")

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # The pages set styles from script (login form, charts); scripts stay 'self' only.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _is_page(path: str) -> bool:
    if path.startswith("/static/") and path.endswith(".html"):
        return True  # the same shells, reachable as files
    return any(path == p or path.startswith(p + "/") for p in PAGES)


class SecurityHeadersMiddleware:
    """Adds the headers above to HTTP responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        page = _is_page(path)
        api = path.startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                if page:
                    headers.setdefault("Content-Security-Policy", CSP)
                    headers.setdefault("X-Frame-Options", "DENY")
                if api:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)

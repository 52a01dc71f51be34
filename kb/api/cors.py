"""CORS by path: city web pages may call ``/public/``; only configured staff origins the rest."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

PUBLIC_PREFIX = "/public/"


class ScopedCORSMiddleware:
    """Applies ``public_origins`` to ``/public/...`` and ``staff_origins`` to everything else.

    Args:
        app: The wrapped ASGI app.
        staff_origins: Origins allowed on the staff API (usually none: same origin).
        public_origins: Origins of the city web pages that embed the widget.
    """

    def __init__(
        self, app: ASGIApp, staff_origins: Sequence[str], public_origins: Sequence[str]
    ) -> None:
        self.app = app
        self.staff: ASGIApp = (
            CORSMiddleware(
                app,
                allow_origins=list(staff_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["*"],
            )
            if staff_origins
            else app
        )
        self.public: ASGIApp = (
            CORSMiddleware(
                app,
                allow_origins=list(public_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Content-Type"],
                expose_headers=["Retry-After"],
                max_age=600,
            )
            if public_origins
            else app
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(PUBLIC_PREFIX):
            await self.public(scope, receive, send)
        else:
            await self.staff(scope, receive, send)

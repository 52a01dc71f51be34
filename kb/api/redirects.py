"""No response reflects the ``Host`` header: redirects within the app carry a path only.

Starlette builds the absolute URL of its own redirects (``/trainer/`` → ``/trainer``, the
``/static`` mount → ``/static/``) from the request's ``Host`` header, which the client chooses:
behind a proxy or cache that does not check it, a forged ``Host`` turns the city's own address
into a redirect to any site (cache poisoning, phishing links). :class:`HostGuardMiddleware`

* answers 400 to a request whose ``Host`` is not a host name or address with an optional port
  (``evil.example/x``, ``a b``, ``x@y``), so what reaches the app is a plain ``host[:port]``;
* rewrites every redirect back to that host into a path-only ``Location``
  (:func:`relative_location`), which a browser resolves against the address it actually used.

A path-only ``Location`` starting with two slashes (``//evil.example``) would be read as
another host, so leading slashes are collapsed to one.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_HOST_RE = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::[0-9]{1,5})?")
"""A registered name (ASCII, IDN as punycode) or IPv4/IPv6 address, and an optional port."""


def valid_host(host: str) -> bool:
    """Whether a ``Host`` header value is a plain ``host[:port]``."""
    return len(host) <= 255 and _HOST_RE.fullmatch(host) is not None


def relative_location(location: str, host: str) -> str:
    """``location`` as a path when it points at ``host`` (or is already a path), else as is.

    Args:
        location: The ``Location`` header value.
        host: The request's ``Host`` header (checked with :func:`valid_host`).

    Returns:
        ``/path?query#fragment`` for a redirect back into the app, ``location`` otherwise.
    """
    parts = urlsplit(location)
    if parts.netloc:
        if parts.netloc.casefold() != host.casefold():
            return location  # a deliberate redirect elsewhere (the app makes none today)
    elif parts.scheme or not location.startswith(("/", "\\")):
        return location
    path = "/" + parts.path.lstrip("/\\")
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return path + query + fragment


class HostGuardMiddleware:
    """Refuses malformed ``Host`` headers and makes redirects into the app path-only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _host_of(scope)
        if host is not None and not valid_host(host):
            response = JSONResponse(
                {"detail": "invalid Host header: expected a host name or address (and port)"},
                status_code=400,
            )
            await response(scope, receive, send)
            return

        async def send_relative(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                headers = MutableHeaders(scope=message)
                location = headers.get("location")
                if location is not None:
                    headers["location"] = relative_location(location, host or _server(scope))
            await send(message)

        await self.app(scope, receive, send_relative)


def _host_of(scope: Scope) -> str | None:
    """The ``Host`` header as Starlette reads it (the first one), ``None`` without one."""
    for key, value in scope.get("headers", ()):
        if key == b"host":
            return bytes(value).decode("latin-1")
    return None


def _server(scope: Scope) -> str:
    """The netloc Starlette puts in URLs of a request without ``Host``."""
    server = scope.get("server")
    if not server:
        return ""
    name, port = server
    default = {"http": 80, "https": 443}.get(scope.get("scheme", "http"))
    return str(name) if port in (None, default) else f"{name}:{port}"

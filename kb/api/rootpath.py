"""Serving under a sub-path behind a reverse proxy (``https://www.city.example.jp/faq/``).

The pages, the widget and the login address everything relative to where they were loaded
(``api/v1/search``, ``static/console.css``), so they work at ``/`` and under any prefix the
proxy strips. Two things cannot be relative on their own, and :class:`RootPathMiddleware`
settles them:

* **Redirects.** Starlette and the routes redirect to a path (``/trainer/`` → ``/trainer``);
  behind a proxy that strips ``/faq`` that path would leave the sub-path. Every path-only
  ``Location`` (after :class:`kb.api.redirects.HostGuardMiddleware` made it so) is rewritten
  relative to the request's own path (``../trainer``), which a browser resolves against the
  address it actually used.
* **A proxy that does not strip the prefix** (or ``uvicorn --root-path``): with
  ``KB_ROOT_PATH=/faq`` a request for ``/faq/staff`` is served as ``/staff``, so the role table
  (:mod:`kb.api.access`), the security headers and the routes see the paths they know.

The OpenAPI document names ``KB_ROOT_PATH`` as its server (see :func:`openapi_servers`), so
``/docs``' "Try it out" calls go through the proxy too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def openapi_servers(root_path: str) -> list[dict[str, Any]] | None:
    """The OpenAPI ``servers`` for a sub-path (``None``: FastAPI's default, the site root)."""
    return [{"url": root_path}] if root_path else None


def strip_prefix(path: str, root_path: str) -> str | None:
    """``path`` without ``root_path`` in front; ``None`` when it does not start with it."""
    if not root_path:
        return None
    if path == root_path:
        return "/"
    if path.startswith(root_path + "/"):
        return path[len(root_path) :]
    return None


def relative_reference(base_path: str, location: str) -> str:
    """``location`` (a path, with optional query and fragment) relative to ``base_path``.

    ``relative_reference("/trainer/", "/trainer")`` is ``"../trainer"``;
    ``relative_reference("/static", "/static/")`` is ``"static/"``. A location that is not a
    path (``https://...``, already relative) is returned as is.
    """
    parts = urlsplit(location)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return location
    base_dir = [s for s in base_path[: base_path.rfind("/") + 1].split("/") if s]
    target = parts.path.lstrip("/").split("/")
    folders, leaf = target[:-1], target[-1]
    common = 0
    while common < min(len(base_dir), len(folders)) and base_dir[common] == folders[common]:
        common += 1
    rel = "../" * (len(base_dir) - common) + "".join(f + "/" for f in folders[common:]) + leaf
    if not rel:
        rel = "./"
    elif ":" in rel.split("/")[0]:
        rel = "./" + rel  # "a:b" would read as a scheme
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return rel + query + fragment


class RootPathMiddleware:
    """Strips ``root_path`` from requests that carry it and makes redirects relative.

    Args:
        app: The wrapped application.
        root_path: ``KB_ROOT_PATH`` (``/faq``, normalized by :class:`kb.settings.Settings`);
            may be empty.
    """

    def __init__(self, app: ASGIApp, root_path: str = "") -> None:
        self.app = app
        self.root_path = root_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        prefix = self.root_path or str(scope.get("root_path", "")).rstrip("/")
        stripped = strip_prefix(scope.get("path", ""), prefix)
        if stripped is not None:
            scope["path"] = stripped
            raw = scope.get("raw_path")
            if isinstance(raw, bytes) and raw.startswith(prefix.encode("latin-1")):
                scope["raw_path"] = raw[len(prefix) :] or b"/"
        # The app is served as if at "/" (its mounts and routes match the stripped path); the
        # sub-path only reaches the outside through the OpenAPI servers and relative links.
        scope["root_path"] = ""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        base_path: str = scope.get("path", "/")

        async def send_relative(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                headers = MutableHeaders(scope=message)
                location = headers.get("location")
                if location is not None:
                    headers["location"] = relative_reference(base_path, location)
            await send(message)

        await self.app(scope, receive, send_relative)

"""Request limits: the body size (413) and the text fields of request bodies (422).

Every request body is capped at ``max_body_bytes`` (search, highlight and feedback bodies are a
few kilobytes); the admin upload routes (``/api/v1/admin/...``) at ``max_upload_bytes``, which
they also check themselves with a more specific message. A declared ``Content-Length`` above
the limit is refused before anything is read; a chunked body is counted as it streams and
refused as soon as it passes the limit.

Every text field of a request body has a maximum length, declared on its schema
(``kb/api/schemas*.py``, ``kb/api/access_schemas.py``) so that ``/openapi.json`` documents it
and a longer value is answered 422 before a route runs. Checking a length also refuses a lone
surrogate (JSON can write ``"\\ud800"``; such a string cannot be written as UTF-8, to SQLite or
to a log): pydantic answers ``string_unicode``, 422 too. The limits of the highlight route, the
one route whose texts are not a query or an id, are here.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD_PREFIX = "/api/v1/admin/"

HIGHLIGHT_MAX_TEXTS = 200
"""Texts of one highlight request (the console sends two or three per result shown)."""
HIGHLIGHT_TEXT_MAX_CHARS = 20_000
"""Characters of one highlight text: the longest FAQ answer or case resolution ingest accepts
by default (``max_record_body_chars``); a manual result is a chunk of a few hundred."""
HIGHLIGHT_TOTAL_MAX_CHARS = 100_000
"""Characters of all texts of one highlight request together: bounds the MeCab work of one
request (about a second for the worst text, a run of ASCII letters, digits or symbols)
whatever the body size limit; what the console sends is a few thousand."""


class _TooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Pure ASGI middleware enforcing the body size limits (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    def limit_for(self, path: str) -> tuple[int, str]:
        if path.startswith(UPLOAD_PREFIX):
            return self.max_upload_bytes, "max_upload_bytes"
        return self.max_body_bytes, "max_body_bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = self.limit_for(str(scope.get("path", "")))
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_error(send, 400, "the Content-Length header is not a number")
                    return
                if declared > limit:
                    await _send_error(send, 413, _message(limit, setting))
                    return
        received = 0
        too_large = False
        replaced = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # The app may catch the error while parsing the body (FastAPI answers 400): its
            # answer is replaced by the 413, whatever it was.
            nonlocal replaced
            if too_large:
                if not replaced:
                    replaced = True
                    await _send_error(send, 413, _message(limit, setting))
                return
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            if not replaced:
                replaced = True
                await _send_error(send, 413, _message(limit, setting))


def _message(limit: int, setting: str) -> str:
    return f"the request body is larger than {limit:,} bytes ({setting})"


async def _send_error(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

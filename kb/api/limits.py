"""Request body size limit: 413 with a JSON body, before a large body is read into memory.

Every request body is capped at ``max_body_bytes`` (search, highlight and feedback bodies are a
few kilobytes); the admin upload routes (``/api/v1/admin/...``) at ``max_upload_bytes``, which
they also check themselves with a more specific message. A declared ``Content-Length`` above
the limit is refused before anything is read; a chunked body is counted as it streams and
refused as soon as it passes the limit.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD_PREFIX = "/api/v1/admin/"


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

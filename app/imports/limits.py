"""A ceiling on request bodies, applied before the body is read (a 50 MB upload is refused at
its headers, not after it has been spooled to disk)."""

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The multipart envelope around the file: boundaries, part headers, the other form fields.
ENVELOPE_BYTES = 64 * 1024


def upload_limit(path: str, *, import_max_bytes: int, restore_max_bytes: int) -> int | None:
    """The body limit of the upload routes; None (no limit here) for every other route."""
    if path.rstrip("/") == "/imports/workspace":
        return restore_max_bytes
    if path.startswith("/imports/"):
        return import_max_bytes
    return None


class BodySizeLimit:
    """Answers 413 to a request whose body is larger than ``limit_for(path)`` allows.

    A declared ``Content-Length`` is checked at once; a body sent without one is read up to the
    limit and handed on only if it fits.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int | None]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdigit():
            if int(declared) > limit + ENVELOPE_BYTES:
                await _too_large(send, limit)
                return
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit + ENVELOPE_BYTES:
                await _too_large(send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def too_large_message(limit: int) -> str:
    return f"The upload is larger than the {limit:,} bytes allowed; nothing was imported."


async def _too_large(send: Send, limit: int) -> None:
    message = too_large_message(limit)
    body = json.dumps({"message": message, "detail": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

"""A ceiling on request bodies, applied before the body is read (a 50 MB upload is refused at
its headers, not after it has been spooled to disk): the upload limits on the import routes,
one limit for every other body (JSON)."""

import json
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The multipart envelope around the file: boundaries, part headers, the other form fields.
ENVELOPE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Limit:
    max_bytes: int
    slack: int  # bytes allowed on top: the multipart envelope around an uploaded file
    message: str


def body_limit(
    path: str, *, import_max_bytes: int, restore_max_bytes: int, max_body_bytes: int
) -> Limit:
    """The body limit of ``path``: an upload route's, else the one for every other body."""
    if path.rstrip("/") == "/imports/workspace":
        return Limit(restore_max_bytes, ENVELOPE_BYTES, too_large_message(restore_max_bytes))
    if path.startswith("/imports/"):
        return Limit(import_max_bytes, ENVELOPE_BYTES, too_large_message(import_max_bytes))
    return Limit(
        max_body_bytes,
        0,
        f"The request body is larger than the {max_body_bytes:,} bytes allowed; "
        "nothing was changed.",
    )


class BodySizeLimit:
    """Answers 413 to a request whose body is larger than ``limit_for(path)`` allows.

    A declared ``Content-Length`` is checked at once; a body sent without one is read up to the
    limit and handed on only if it fits.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], Limit | None]) -> None:
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
            if int(declared) > limit.max_bytes + limit.slack:
                await _too_large(send, limit.message)
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
            if size > limit.max_bytes + limit.slack:
                await _too_large(send, limit.message)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def too_large_message(limit: int) -> str:
    return f"The upload is larger than the {limit:,} bytes allowed; nothing was imported."


async def _too_large(send: Send, message: str) -> None:
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

"""A request body limit that holds while the body streams in (chunked uploads have no ``Content-Length``).

A body is read by the app (the multipart parser spools uploads to disk as they arrive); this ASGI middleware counts
the bytes handed over and, at the first chunk past the limit, stops the read and answers 413 — the rest of the body
is never read, so never written anywhere. A declared ``Content-Length`` over the limit is refused before any read.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLargeError(Exception):
    """Raised into the app's body read when the limit is passed (the middleware answers 413)."""


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413 and ``{"detail": message}``."""

    def __init__(self, app: ASGIApp, limit: int, message: str) -> None:
        self.app = app
        self.limit = limit
        self.message = message

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        state: dict[str, Any] = {"read": 0, "over": False, "started": False}

        async def limited_receive() -> Message:
            if state["over"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if state["read"] > self.limit:
                    state["over"] = True
                    raise BodyTooLargeError(self.message)
            return message

        async def guarded_send(message: Message) -> None:
            if state["over"]:
                return  # whatever the app answers to its failed read, the client gets the 413
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not state["over"]:
                raise
        if state["over"] and not state["started"]:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse({"detail": self.message}, status_code=413, headers={"Connection": "close"})
        await response(scope, receive, send)

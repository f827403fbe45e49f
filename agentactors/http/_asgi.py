"""The ASGI middleware in front of quart: the gate, CORS headers, and whole bodies.

:class:`Guard` applies ``_auth.verdict`` to every HTTP request (answering refusals and
CORS preflights itself), adds CORS headers to answers for allowed origins, and never
lets an answer start before the request body has fully arrived.

That last rule works around hypercorn 0.18's HTTP/1.1 keep-alive: an answer that
completes while the client is still sending its body (a 405, a 400 for a bad path id, a
401) leaves the connection neither recycled nor closed, so the client's next request on
it hangs until the keep-alive timeout.  quart reads the body in a task of its own, so
waiting for it costs nothing but the upload; the wait is bounded by :data:`BODY_WAIT`.
"""

from __future__ import annotations

import json
from typing import Any

import trio
from hypercorn.typing import ASGIFramework, ASGIReceiveCallable, ASGISendCallable, Scope

from ._auth import Policy, Refusal, cors_headers, verdict

BODY_WAIT = 10.0
"""Seconds an answer waits for the rest of the request body before it is sent anyway."""


def _has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"transfer-encoding" or (lowered == b"content-length" and value != b"0"):
            return True
    return False


class Guard:
    """ASGI middleware: the gate, CORS, and whole bodies before answers.  Never blocks;
    cancel-safe (a cancelled request simply stops)."""

    def __init__(self, app: ASGIFramework, policy: Policy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = list(scope["headers"])
        has_body = _has_body(headers)
        refusal = verdict(self.policy, scope["method"], scope["path"], headers)
        if refusal is not None:
            if has_body:
                await _drain(receive)
            await _refuse(send, refusal)
            return
        origin = next((v for k, v in headers if k.lower() == b"origin"), None)
        if origin is None and not has_body:
            await self.app(scope, receive, send)  # the common case: nothing to wrap
            return
        extra = cors_headers(origin) if origin is not None else ()
        body_done = trio.Event()
        if not has_body:
            body_done.set()

        async def tracked_receive() -> Any:
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                body_done.set()
            return message

        async def guarded_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                with trio.move_on_after(BODY_WAIT):
                    await body_done.wait()
                if extra:
                    message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, tracked_receive, guarded_send)


async def _drain(receive: ASGIReceiveCallable) -> None:
    """Read the request body to its end (at most :data:`BODY_WAIT` seconds)."""
    with trio.move_on_after(BODY_WAIT):
        while True:
            message: Any = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                return


async def _refuse(send: ASGISendCallable, refusal: Refusal) -> None:
    headers = list(refusal.headers)
    body = b""
    if refusal.status != 204:
        body = json.dumps({"_tag": refusal.tag, "message": refusal.message}).encode()
        headers.append((b"content-type", b"application/json"))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})

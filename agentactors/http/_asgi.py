"""The ASGI middleware in front of quart: the gate, CORS headers, and whole bodies.

:class:`Guard` applies ``_auth.verdict`` to every HTTP request (answering refusals and
CORS preflights itself), adds CORS headers to answers for allowed origins, and never
lets an answer start before the request body has fully arrived.

Two workarounds for hypercorn 0.18 with quart-trio 0.12, both about HTTP/1.1 keep-alive:

* An answer that completes while the client is still sending its body (a 405, a 400 for
  a bad path id, a 401) leaves the connection neither recycled nor closed: the client's
  next request on it hangs until the keep-alive timeout.  So an answer waits for the
  body (quart reads it in a task of its own; the wait is bounded by :data:`BODY_WAIT`).
* When an answer's last message is sent, hypercorn tells the app ``http.disconnect``
  and, still inside that send, starts the connection's idle watcher.  quart-trio cancels
  the request's nursery on that disconnect, which cancels the watcher being started, so
  an idle keep-alive connection then ignores a graceful shutdown and holds it for the
  whole ``graceful_timeout``.  So a disconnect that arrives while the last message is
  being sent is handed to quart only once that send has returned.
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
        extra = cors_headers(origin) if origin is not None else ()
        exchange = _Exchange(receive, send, extra, has_body)
        await self.app(scope, exchange.receive, exchange.send)


class _Exchange:
    """One request's receive and send, wrapped (see the module doc).  Small on purpose:
    one lives per open request, parked long-polls included; events are made lazily."""

    __slots__ = ("_body_done", "_extra", "_finished", "_finishing", "_receive", "_send")

    def __init__(
        self,
        receive: ASGIReceiveCallable,
        send: ASGISendCallable,
        extra: tuple[tuple[bytes, bytes], ...],
        has_body: bool,
    ) -> None:
        self._receive = receive
        self._send = send
        self._extra = extra
        self._body_done = trio.Event() if has_body else None
        self._finishing = False  # the answer's last message is being sent
        self._finished: trio.Event | None = None

    async def receive(self) -> Any:
        message: Any = await self._receive()
        disconnect = message["type"] == "http.disconnect"
        if self._body_done is not None and (disconnect or not message.get("more_body")):
            self._body_done.set()
        if disconnect and self._finishing:  # keep-alive survives this way
            self._finished = self._finished or trio.Event()
            await self._finished.wait()
        return message

    async def send(self, message: Any) -> None:
        if message["type"] == "http.response.start":
            if self._body_done is not None:
                with trio.move_on_after(BODY_WAIT):
                    await self._body_done.wait()
            if self._extra:
                message = {**message, "headers": [*message.get("headers", ()), *self._extra]}
        last = message["type"] == "http.response.body" and not message.get("more_body")
        self._finishing = last
        await self._send(message)
        if last:
            self._finishing = False
            if self._finished is not None:
                self._finished.set()


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

"""A lean HTTP/1.1 load generator: requests written as bytes, answers read by httptools.

The measurements must not be limited by their own client: h11 (or httpx) spends more
CPU on a request than the server does, so a load generator built on it would measure
itself.  :class:`Client` is one kept-alive connection; :class:`EventStream` is one
``GET /event`` stream whose body arrives de-chunked, piece by piece or as events (parsed by
the client's :class:`SseParser`).
Loopback only; callers bound every wait.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httptools
import trio

from agentactors.client import SseEvent, SseParser

HOST = "127.0.0.1"


class _Answer:
    """httptools callbacks: one answer's body pieces, and whether it is complete."""

    __slots__ = ("body", "close", "complete", "headers", "headers_done")

    def __init__(self) -> None:
        self.body: list[bytes] = []
        self.headers: dict[str, str] = {}  # lower-case names
        self.complete = False
        self.headers_done = False
        self.close = False  # the server said ``connection: close``

    def on_message_begin(self) -> None:
        self.body = []
        self.headers = {}
        self.complete = False
        self.headers_done = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        if name.lower() == b"connection" and value.lower() == b"close":
            self.close = True

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


class Client:
    """One kept-alive connection (reconnects when the server closed it).  ``headers``
    and ``size`` are those of the last answer (lower-case names; body bytes)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stream: trio.SocketStream | None = None
        self.headers: dict[str, str] = {}
        self.size = 0
        self._answer = _Answer()
        self._parser = httptools.HttpResponseParser(self._answer)

    async def connect(self) -> None:
        if self.stream is not None:
            await self.stream.aclose()
        self.stream = await trio.open_tcp_stream(HOST, self.port)
        self._answer = _Answer()
        self._parser = httptools.HttpResponseParser(self._answer)

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One exchange: ``(status, JSON body)`` (None for an empty body).  Raises
        ConnectionError if the server closed the connection instead of answering."""
        if self.stream is None:
            await self.connect()
        assert self.stream is not None
        data = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
        await self.stream.send_all(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data)
        answer = self._answer
        answer.complete = False
        while not answer.complete:
            chunk = await self.stream.receive_some(65536)
            if not chunk:
                self.stream = None
                raise ConnectionError("the server closed the connection")
            self._parser.feed_data(chunk)
        status = self._parser.get_status_code()
        body = b"".join(answer.body)
        self.headers, self.size = answer.headers, len(body)
        if answer.close:  # (httptools' should_keep_alive() is False once a message ends)
            await self.aclose()
        return status, json.loads(body or b"null")

    async def aclose(self) -> None:
        if self.stream is not None:
            await self.stream.aclose()
            self.stream = None


class EventStream:
    """``GET path`` as a stream: :meth:`open` reads the head, :meth:`pieces` yields the
    body (de-chunked) as it arrives, :meth:`events` its events."""

    def __init__(self, port: int, path: str = "/event") -> None:
        self.port = port
        self.path = path
        self.stream: trio.SocketStream | None = None
        self._answer = _Answer()
        self._parser = httptools.HttpResponseParser(self._answer)

    async def open(self) -> None:
        """Connect, send the request, read until the head has arrived.  Raises
        ConnectionError unless the answer is a 200."""
        self.stream = await trio.open_tcp_stream(HOST, self.port)
        request = f"GET {self.path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n\r\n"
        await self.stream.send_all(request.encode())
        while not self._answer.headers_done:
            await self._feed()
        if self._parser.get_status_code() != 200:
            raise ConnectionError(f"the stream answered {self._parser.get_status_code()}")

    async def pieces(self) -> AsyncIterator[bytes]:
        """Body pieces until the stream ends."""
        answer = self._answer
        while True:
            if answer.body:
                pieces, answer.body = answer.body, []
                for piece in pieces:
                    yield piece
            if answer.complete:
                return
            await self._feed()

    async def events(self) -> AsyncIterator[list[SseEvent]]:
        """The stream's events as they arrive (the client's :class:`SseParser`): each item
        is the events one read completed, in order."""
        parser = SseParser()
        async for piece in self.pieces():
            events = parser.feed(piece)
            if events:
                yield events

    async def _feed(self) -> None:
        assert self.stream is not None
        data = await self.stream.receive_some(65536)
        if not data:
            raise ConnectionError("the stream was closed")
        self._parser.feed_data(data)

    async def aclose(self) -> None:
        if self.stream is not None:
            await self.stream.aclose()

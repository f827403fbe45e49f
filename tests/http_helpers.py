"""Helpers for the HTTP tests: :class:`Live` (a real HTTP server on an ephemeral port
inside the test's trio run, with an httpx client against it; the ``live`` fixture in
``conftest.py`` starts it), raw h11 connections, an SSE reader and ``serve`` processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import attrs
import h11
import httpx
import trio

from agentactors.client import SseEvent, SseParser
from agentactors.http import HttpServer

HOST = "127.0.0.1"
PROJECT = "/work/project"
"""The live server's directory (need not exist: project files are not read in tests)."""


class Conn:
    """One kept-alive HTTP/1.1 connection over h11, for tests at the protocol level
    (reconnects when the server closes it).

    :meth:`request` is the whole exchange; :meth:`send`, :meth:`head` and
    :meth:`response` are its parts, for tests that send a request in pieces.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.stream: trio.SocketStream | None = None
        self.h11 = h11.Connection(h11.CLIENT)

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send one request and read its JSON answer (``None`` for an empty body)."""
        if self.stream is None or self.h11.our_state is not h11.IDLE:
            await self._connect()
        data = b"" if body is None else json.dumps(body).encode()
        parts = [h11.Data(data=data)] if data else []
        await self.send(self.head(method, path, len(data)), *parts, h11.EndOfMessage())
        return await self.response()

    def head(self, method: str, path: str, length: int = 0) -> h11.Request:
        headers = [("Host", f"{HOST}:{self.port}"), ("Content-Length", str(length))]
        return h11.Request(method=method, target=path, headers=headers)

    async def send(self, *events: h11.Event) -> None:
        """Send these h11 events (connecting first if need be)."""
        if self.stream is None:
            await self._connect()
        assert self.stream is not None
        await self.stream.send_all(b"".join(self.h11.send(event) or b"" for event in events))

    async def response(self) -> tuple[int, Any]:
        """Read one answer: ``(status, JSON body)``.  Raises ConnectionError if the
        server closed the connection instead."""
        assert self.stream is not None
        status, chunks = 0, []
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                self.h11.receive_data(await self.stream.receive_some(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
                    self.h11.start_next_cycle()
                return status, json.loads(b"".join(chunks) or b"null")
            else:
                raise ConnectionError(f"unexpected {event!r}")

    async def _connect(self) -> None:
        if self.stream is not None:
            await self.stream.aclose()
        self.stream = await trio.open_tcp_stream(HOST, self.port)
        self.h11 = h11.Connection(h11.CLIENT)

    async def aclose(self) -> None:
        if self.stream is not None:
            await self.stream.aclose()


class HasUrl(Protocol):
    """Any server at a URL (another program's, for :func:`open_stream`)."""

    @property
    def url(self) -> str: ...


@attrs.frozen
class Live:
    """A running server: its URL, a client against it, and the server object."""

    url: str
    client: httpx.AsyncClient
    server: HttpServer

    @property
    def port(self) -> int:
        port = httpx.URL(self.url).port
        assert port is not None
        return port

    async def session(self, directory: str | None = None, **body: Any) -> dict[str, Any]:
        """Create a session over HTTP (in ``directory`` if given); its JSON."""
        params = {"directory": directory} if directory else None
        response = await self.client.post("/session", json=body, params=params)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def ask(self, session_id: str, command: str, **body: Any) -> httpx.Response:
        """``POST /session/{id}/permission`` for a bash command (no wait)."""
        body = {"permission": "bash", "metadata": {"command": command}, **body}
        return await self.client.post(f"/session/{session_id}/permission", json=body)


@attrs.frozen
class Message:
    """One SSE message: its ``id:`` field (or None) and its JSON ``data:``."""

    id: str | None
    data: dict[str, Any]

    @property
    def type(self) -> str:
        """The event type (unwrapping the global stream's payload)."""
        event = self.data.get("payload", self.data)
        return str(event["type"])

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self.data.get("payload", self.data)["properties"])


class Stream:
    """An open SSE response over a raw h11 connection, read one message at a time
    (parsed by the client's :class:`SseParser`).

    (httpx's line iterators leave a generator unclosed when a stream is left early,
    which is a ResourceWarning, an error in this suite.)
    """

    def __init__(self, stream: trio.SocketStream, connection: h11.Connection) -> None:
        self._stream = stream
        self._connection = connection
        self._parser = SseParser()
        self._ready: deque[SseEvent] = deque()  # parsed, not yet read
        self.status = 0
        self.headers: dict[str, str] = {}

    async def _event(self) -> Any:
        while True:
            event = self._connection.next_event()
            if event is not h11.NEED_DATA:
                return event
            self._connection.receive_data(await self._stream.receive_some(65536))

    async def start(self) -> None:
        """Read the response head."""
        event = await self._event()
        assert isinstance(event, h11.Response), event
        self.status = event.status_code
        self.headers = {k.decode(): v.decode() for k, v in event.headers}

    async def next(self, timeout: float = 5.0) -> Message:
        """The next message.  Fails after ``timeout``; raises StopAsyncIteration at end."""
        with trio.fail_after(timeout):
            while not self._ready:
                event = await self._event()
                if not isinstance(event, h11.Data):
                    raise StopAsyncIteration  # EndOfMessage or ConnectionClosed
                self._ready.extend(self._parser.feed(bytes(event.data)))
        message = self._ready.popleft()
        return Message(message.id, json.loads(message.data))

    async def next_of(self, *types: str, timeout: float = 5.0) -> Message:
        """The next message of one of ``types``, skipping others."""
        with trio.fail_after(timeout):
            while True:
                message = await self.next(timeout)
                if message.type in types:
                    return message


async def raw_request(live: Live, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request on its own raw h11 connection: ``(status, JSON body)``.

    Light enough to hold 1,000s at once (httpx's pool slows down past a few dozen).
    """
    connection = Conn(live.port)
    try:
        return await connection.request(method, path, body)
    finally:
        await connection.aclose()


@asynccontextmanager
async def open_stream(
    live: Live | HasUrl | str, path: str = "/event", headers: dict[str, str] | None = None
) -> AsyncIterator[Stream]:
    """Open an SSE stream (of a live server, or of the server at a URL) and read past
    ``server.connected`` (which must come first)."""
    url = httpx.URL(live if isinstance(live, str) else live.url)
    host, port = url.host, url.port or 80
    all_headers = {"Host": f"{host}:{port}", "Accept": "text/event-stream", **(headers or {})}
    socket_stream = await trio.open_tcp_stream(host, port)
    async with socket_stream:
        connection = h11.Connection(h11.CLIENT)
        request = h11.Request(method="GET", target=path, headers=list(all_headers.items()))
        await socket_stream.send_all(connection.send(request) + connection.send(h11.EndOfMessage()))
        stream = Stream(socket_stream, connection)
        await stream.start()
        assert stream.status == 200, stream.status
        assert stream.headers["content-type"].startswith("text/event-stream")
        first = await stream.next()
        assert first.type == "server.connected", first
        yield stream


async def read_line(stream: trio.abc.ReceiveStream, buffer: bytearray) -> str:
    """The next line of ``stream`` (``buffer`` keeps what came after it)."""
    while b"\n" not in buffer:
        chunk = await stream.receive_some(4096)
        if not chunk:
            raise EOFError(bytes(buffer).decode())
        buffer += chunk
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line.decode()


LISTENING = (
    "agentactors listening on http://127.0.0.1:",
    "agentactors listening on https://127.0.0.1:",
)
"""How the line ``serve`` prints once it listens starts (its fourth word is the URL)."""


def serve_command(
    directory: Path, data_dir: Path | str, *extra: str, env: dict[str, str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """The command and environment of a ``python -m agentactors serve --port 0`` process
    (``extra`` may name another port).  Never the user's own config or state; no
    password unless ``env`` gives one."""
    command = [sys.executable, "-m", "agentactors", "serve", "--port", "0"]
    command += ["--directory", str(directory), "--data-dir", str(data_dir), *extra]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    environment["XDG_CONFIG_HOME"] = str(directory / "config")
    environment.pop("AGENTACTORS_SERVER_PASSWORD", None)
    environment.update(env or {})
    return command, environment


@asynccontextmanager
async def serve_process(
    directory: Path,
    data_dir: Path | str,
    *extra: str,
    env: dict[str, str] | None = None,
    start_timeout: float = 30,
) -> AsyncIterator[tuple[trio.Process, str]]:
    """A ``serve`` process (:func:`serve_command`) and the URL it prints, within
    ``start_timeout`` seconds; killed if still alive at the end."""
    command, environment = serve_command(directory, data_dir, *extra, env=env)
    async with trio.open_nursery() as nursery:
        process: trio.Process = await nursery.start(
            lambda task_status: trio.run_process(
                command, stdout=subprocess.PIPE, check=False, env=environment,
                task_status=task_status,
            )
        )  # fmt: skip
        try:
            assert process.stdout is not None
            buffer = bytearray()
            with trio.fail_after(start_timeout):
                line = await read_line(process.stdout, buffer)
                if line.startswith("plugins: "):  # the plugins started come first
                    line = await read_line(process.stdout, buffer)
            assert line.startswith(LISTENING), line
            yield process, line.split()[3]
        finally:
            if process.returncode is None:
                process.kill()

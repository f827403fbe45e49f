"""HTTP/1.1 on trio sockets, with h11 (sans-I/O) doing the protocol.

One trio task per connection, no thread per anything.  A connection reads one request
whole (head and body, at most ``max_body`` bytes), hands it to the app, writes the answer,
and goes round again while the client keeps it alive.  While a request is *held* (a
parked long-poll, via :meth:`Request.hold`) or a :class:`Stream` is being sent, a second
task reads the socket so a client that goes away is noticed at once and its wait is
cancelled; the short requests (replies, lists) pay for no second task.

Shutdown (:meth:`Server.shutdown`): stop accepting, close idle kept-alive connections at
once, answer ``connection: close`` on the rest, wait up to ``graceful_timeout`` for open
requests, then cancel what is left.  (The app's own lifeline ends parked long-polls and
streams first, with answers.)

Bad requests get a JSON error and the connection is closed: a malformed head is a 400,
a head over :data:`MAX_HEAD` bytes a 431, a body over ``max_body`` a 413 (after reading
and discarding the body, bounded in bytes and time, so the client sees the answer).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from functools import partial
from typing import Any, TypeVar
from urllib.parse import unquote

import h11
import trio

from ._messages import ClientGone, Request, Response, Stream

log = logging.getLogger("agentactors.http")

T = TypeVar("T")
App = Callable[[Request], Awaitable[Response]]

MAX_HEAD = 16 * 1024
"""Bytes a request line and headers may take (a larger head is a 431)."""
RECEIVE = 64 * 1024
KEEP_ALIVE = 5.0
"""Seconds an idle connection waits for its next request (or a new one for its first)."""
BODY_WAIT = 10.0
"""Seconds a client gets to send a body the server will refuse (413) before it answers."""
PIPELINE_LIMIT = 64 * 1024
"""Bytes of a client's next requests read ahead while one is held (then reading stops)."""

_date_cache: tuple[int, bytes] = (0, b"")


def _date() -> bytes:
    global _date_cache  # noqa: PLW0603 - a one-second cache of the Date header
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode())
    return _date_cache[1]


def error_body(status: int, tag: str, message: str) -> Response:
    body = json.dumps({"_tag": tag, "message": message}).encode()
    return Response(status, [(b"content-type", b"application/json")], body)


class _Connection:
    """One client connection: its socket, its h11 state, whether it is idle."""

    __slots__ = ("client", "gone", "h11", "idle", "stream")

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self.idle: trio.CancelScope | None = None  # set while waiting for a next request
        self.gone = False
        try:
            host, *_ = stream.socket.getpeername()
            self.client: str | None = str(host)
        except (OSError, ValueError):
            self.client = None

    async def next_event(self) -> Any:
        """The next h11 event, reading the socket as needed.  Raises h11's
        RemoteProtocolError on a malformed request, trio's errors on a broken socket."""
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            self.h11.receive_data(await self.stream.receive_some(RECEIVE))

    async def send(self, *events: Any) -> None:
        data = b"".join([self.h11.send(event) or b"" for event in events])
        await self.stream.send_all(data)

    async def watch(self, scope: trio.CancelScope) -> None:
        """Read ahead while a request is held; cancel ``scope`` when the client goes away
        (end of stream or a broken socket).  Pipelined bytes are kept for h11."""
        read = 0
        try:
            while read < PIPELINE_LIMIT:
                data = await self.stream.receive_some(RECEIVE)
                if not data:
                    break
                read += len(data)
                self.h11.receive_data(data)
            else:
                await trio.sleep_forever()  # enough read ahead: let TCP push back
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        self.gone = True
        scope.cancel()

    async def hold(self, fn: Callable[[], Awaitable[T]]) -> T:
        """``Request.hold``: ``fn()`` with :meth:`watch` beside it.  Raises what ``fn()``
        raises (unwrapped), or ClientGone."""
        failure: Exception | None = None
        finished = False
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.watch, nursery.cancel_scope)
            try:
                result = await fn()
                finished = True
            except Exception as exc:  # noqa: BLE001 - re-raised below, not as a group
                failure = exc
            nursery.cancel_scope.cancel()
        if failure is not None:
            raise failure
        if not finished:
            raise ClientGone  # the watcher cancelled fn()
        return result


class Server:
    """Serves ``app`` on listeners until :meth:`shutdown`.  Trio thread only."""

    def __init__(
        self, app: App, *, max_body: int, graceful_timeout: float, keep_alive: float = KEEP_ALIVE
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.graceful_timeout = graceful_timeout
        self.keep_alive = keep_alive
        self.closing = False
        self._open: set[_Connection] = set()
        self._drained = trio.Event()
        self._stop = trio.Event()

    async def serve(
        self,
        listeners: list[trio.SocketListener],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Accept and serve until :meth:`shutdown` and its graceful window are over."""
        async with trio.open_nursery() as connections:
            async with trio.open_nursery() as accepting:
                accepting.start_soon(
                    partial(
                        trio.serve_listeners,
                        self._connection,
                        listeners,
                        handler_nursery=connections,
                    )
                )
                task_status.started()
                await self._stop.wait()
                accepting.cancel_scope.cancel()
            for listener in listeners:
                await listener.aclose()
            if self._open:
                with trio.move_on_after(self.graceful_timeout):
                    await self._drained.wait()
            connections.cancel_scope.cancel()

    def shutdown(self) -> None:
        """Stop accepting and close idle connections; busy ones close after their answer.
        Never blocks; idempotent."""
        self.closing = True
        self._stop.set()
        for connection in list(self._open):
            if connection.idle is not None:
                connection.idle.cancel()
        if not self._open:
            self._drained.set()

    async def _connection(self, stream: trio.SocketStream) -> None:
        connection = _Connection(stream)
        self._open.add(connection)
        try:
            await self._requests(connection)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the client went away mid-answer
        finally:
            self._open.discard(connection)
            if self.closing and not self._open:
                self._drained.set()
            await trio.aclose_forcefully(stream)

    async def _requests(self, connection: _Connection) -> None:
        while not self.closing:
            try:
                head = await self._head(connection)
                if head is None:
                    return
                request = await self._body(connection, head)
            except h11.RemoteProtocolError as exc:
                await self._protocol_error(connection, exc)
                return
            if request is None:
                return
            if not await self._exchange(connection, request):
                return
            if connection.h11.our_state is not h11.DONE or connection.gone:
                return
            connection.h11.start_next_cycle()

    async def _head(self, connection: _Connection) -> h11.Request | None:
        """The next request's head, or None: the client closed, idled past keep-alive, or
        the server is closing."""
        with trio.CancelScope(deadline=trio.current_time() + self.keep_alive) as idle:
            connection.idle = idle
            if self.closing:
                idle.cancel()
            event = await connection.next_event()
        connection.idle = None
        if idle.cancelled_caught or not isinstance(event, h11.Request):
            return None
        return event

    async def _body(self, connection: _Connection, head: h11.Request) -> Request | None:
        """Read the body whole (None if the client went away or it was refused)."""
        declared = next((v for k, v in head.headers if k == b"content-length"), None)
        if declared is not None and int(declared) > self.max_body:
            await self._too_large(
                connection, expect=connection.h11.they_are_waiting_for_100_continue
            )
            return None
        if connection.h11.they_are_waiting_for_100_continue:
            await connection.send(h11.InformationalResponse(status_code=100, headers=[]))
        chunks: list[bytes] = []
        size = 0
        while True:
            event = await connection.next_event()
            if type(event) is h11.Data:
                size += len(event.data)
                if size > self.max_body:
                    await self._too_large(connection, expect=False)
                    return None
                chunks.append(bytes(event.data))
            elif type(event) is h11.EndOfMessage:
                break
            else:  # ConnectionClosed
                return None
        target = head.target.decode("latin-1")
        path, _, query = target.partition("?")
        if "%" in path:
            path = unquote(path)
        return Request(
            head.method.decode("ascii"),
            path,
            query,
            head.headers,  # type: ignore[arg-type] # h11's Headers is a list of byte pairs
            body=b"".join(chunks),
            client=connection.client,
            hold=connection.hold,
        )

    async def _exchange(self, connection: _Connection, request: Request) -> bool:
        """Answer one request; False if the connection is done for."""
        try:
            response = await self.app(request)
        except ClientGone:
            return False
        except Exception:
            log.exception("the app failed to answer %s %s", request.method, request.path)
            response = error_body(500, "InternalError", "internal error")
        head_only = request.method == "HEAD"
        headers = [*response.headers, (b"date", _date())]
        if self.closing:
            headers.append((b"connection", b"close"))
        if type(response) is Stream:
            await self._stream(connection, response, headers, head_only)
            return not connection.gone
        headers.append((b"content-length", str(len(response.body)).encode()))
        answer = h11.Response(status_code=response.status, headers=headers)
        if head_only or not response.body:
            await connection.send(answer, h11.EndOfMessage())
        else:
            await connection.send(answer, h11.Data(data=response.body), h11.EndOfMessage())
        return True

    async def _stream(
        self, connection: _Connection, response: Stream, headers: list[Any], head_only: bool
    ) -> None:
        chunks = response.chunks
        try:
            await connection.send(h11.Response(status_code=response.status, headers=headers))
            if head_only:
                await connection.send(h11.EndOfMessage())
                return

            async def pump() -> None:
                async for chunk in chunks:
                    await connection.send(h11.Data(data=chunk))
                await connection.send(h11.EndOfMessage())

            try:
                await connection.hold(pump)
            except ClientGone:
                pass
        finally:
            await chunks.aclose()  # type: ignore[attr-defined] # an async generator

    async def _too_large(self, connection: _Connection, *, expect: bool) -> None:
        """Answer 413 and close; read and drop the body first (unless the client waits
        for a 100 Continue: then it sends none), so the client reads the answer."""
        if not expect:
            with trio.move_on_after(BODY_WAIT):
                dropped = 0
                while dropped < 64 * self.max_body:
                    event = await connection.next_event()
                    if type(event) is not h11.Data:
                        break
                    dropped += len(event.data)
        message = f"request body over {self.max_body} bytes"
        await self._send_error(connection, error_body(413, "PayloadTooLargeError", message))

    async def _protocol_error(self, connection: _Connection, exc: h11.RemoteProtocolError) -> None:
        status = exc.error_status_hint
        if status == 413:  # h11 says 413 for a head over max_incomplete_event_size
            status = 431
        tag = "RequestHeaderFieldsTooLargeError" if status == 431 else "BadRequestError"
        await self._send_error(connection, error_body(status, tag, f"malformed request: {exc}"))

    async def _send_error(self, connection: _Connection, response: Response) -> None:
        if connection.h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        headers = [
            *response.headers,
            (b"content-length", str(len(response.body)).encode()),
            (b"connection", b"close"),
        ]
        try:
            answer = h11.Response(status_code=response.status, headers=headers)
            await connection.send(answer, h11.Data(data=response.body), h11.EndOfMessage())
        except (h11.LocalProtocolError, trio.BrokenResourceError, trio.ClosedResourceError):
            pass

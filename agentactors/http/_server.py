"""HTTP/1.1 on trio; httptools (llhttp, the parser of Node.js) reads requests.

One trio task per connection, no thread per anything.  Sockets are the standard
library's, non-blocking, read and written directly and waited on with trio's
``wait_readable``/``wait_writable`` (trio's ``SocketStream`` costs ~35 µs a send and
receive here, against ~3 µs: two checkpoints and a conflict check each).

A connection reads one request whole (head and body, at most ``max_body`` bytes), hands
it to the app, writes the answer, and goes round again while the client keeps it alive
(pipelined requests are answered in order).  A request the app *holds* (a parked
long-poll, via :meth:`Request.hold`) and an event :class:`Stream` are watched for the
client hanging up (``_hangups``): the wait or the stream is cancelled at once.  Answers
are written by hand: a status line, the app's headers, ``date``, ``content-length`` or
chunked framing.

Shutdown (:meth:`Server.shutdown`): stop accepting, close idle kept-alive connections at
once, end held requests (a long-poll raises :class:`ShuttingDown`, which the app answers
503; a stream ends), answer ``connection: close`` on the rest, wait up to
``graceful_timeout`` for open requests, then cancel what is left.

Bad requests get a JSON error and the connection is closed: a malformed request is a 400,
a head over :data:`MAX_HEAD` bytes a 431, a body over ``max_body`` a 413 (after reading and
dropping the body, bounded in bytes and time, so the client sees the answer; at once to a
client waiting for ``100 Continue``).
"""

from __future__ import annotations

import errno
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import unquote

import httptools
import trio

from ._errors import ShuttingDown
from ._hangups import Hangups, TaskHangups
from ._messages import ClientGone, Request, Response, Stream, error_response

log = logging.getLogger("agentactors.http")

T = TypeVar("T")
App = Callable[[Request], Awaitable[Response]]

MAX_HEAD = 16 * 1024
"""Bytes a request line and headers may take (a larger head is a 431)."""
RECEIVE = 64 * 1024
KEEP_ALIVE = 5.0
"""Seconds an idle connection waits for its next request (or a new one for its first);
checked every half of it (at most every second) by one sweeper task."""
BODY_WAIT = 10.0
"""Seconds a client gets to send a body the server will refuse (413) before it answers."""

_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS}
_ACCEPT_AGAIN = {errno.ECONNABORTED, errno.EPROTO, errno.EPERM, errno.EINTR}
_REASONS = {
    100: b"Continue",
    200: b"OK",
    204: b"No Content",
    400: b"Bad Request",
    401: b"Unauthorized",
    403: b"Forbidden",
    404: b"Not Found",
    405: b"Method Not Allowed",
    409: b"Conflict",
    413: b"Content Too Large",
    431: b"Request Header Fields Too Large",
    500: b"Internal Server Error",
    503: b"Service Unavailable",
    504: b"Gateway Timeout",
}
"""The reason phrases of the statuses this server sends (others go without one, as HTTP/1.1
allows; the standard library's ``http.HTTPStatus`` enum costs ~5 ms of start-up)."""
_date_cache: tuple[int, bytes] = (0, b"")


def _date() -> bytes:
    global _date_cache  # noqa: PLW0603 - a one-second cache of the Date header
    now = int(time.time())
    if _date_cache[0] != now:
        # RFC 9110's IMF-fixdate (email.utils.formatdate, without importing email)
        _date_cache = (now, time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now)).encode())
    return _date_cache[1]


def _head(status: int, headers: list[tuple[bytes, bytes]], close: bool) -> list[bytes]:
    lines = [b"HTTP/1.1 %d %s\r\ndate: %s\r\n" % (status, _REASONS.get(status, b""), _date())]
    lines += [b"%s: %s\r\n" % header for header in headers]
    if close:
        lines.append(b"connection: close\r\n")
    return lines


def _whole(response: Response, close: bool, *, with_body: bool = True) -> bytes:
    """A whole answer's bytes: head, ``content-length``, the body (none to a HEAD)."""
    lines = _head(response.status, response.headers, close)
    lines.append(b"content-length: %d\r\n\r\n" % len(response.body))
    if with_body:
        lines.append(response.body)
    return b"".join(lines)


class _Refused(Exception):
    """A request the server answers itself (400, 413, 431), then closes the connection."""

    def __init__(self, status: int, tag: str, message: str) -> None:
        super().__init__(message)
        self.response = error_response(status, tag, message)


def _head_too_large() -> _Refused:
    return _Refused(431, "RequestHeaderFieldsTooLargeError", "request head too large")


class _Connection:
    """One client connection: its socket, its parser, what the parser has completed.
    The parser's callbacks (``on_*``) fill the request being read."""

    __slots__ = (
        "_body",
        "_body_size",
        "_continue",
        "_head_size",
        "_headers",
        "_in_head",
        "_parsed_head",
        "_url",
        "client",
        "continue_due",
        "deadline",
        "gone",
        "held",
        "hold",
        "idle",
        "idle_since",
        "parser",
        "ready",
        "server",
        "sock",
        "too_large",
    )

    def __init__(self, sock: socket.socket, server: Server) -> None:
        self.sock = sock
        self.server = server
        self.parser = httptools.HttpRequestParser(self)
        self.ready: list[Request] = []  # usually one; more when pipelined
        self.idle: trio.CancelScope | None = None  # set while waiting for a next request
        self.idle_since = 0.0  # trio time the wait began (the idle sweeper reads it)
        self.gone = False  # the client hung up while its request was held
        self.held: trio.CancelScope | None = None  # the wait being held, if any
        self.continue_due = False
        self.too_large = False
        self.deadline = float("inf")  # for the rest of a refused body
        self._in_head = False
        self._head_size = 0  # bytes received while a head was incomplete
        self._parsed_head = 0  # the request line's and headers' bytes, as parsed
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._body_size = 0
        self._continue = False
        self.hold = self._hold  # bound once: every Request of this connection shares it
        try:
            host, *_ = sock.getpeername()
            self.client: str | None = str(host)
        except (OSError, ValueError):
            self.client = None

    # --- httptools callbacks ---------------------------------------------------------

    def on_message_begin(self) -> None:
        self._in_head = True
        self._head_size = 0
        self._parsed_head = 0
        self._url = b""
        self._headers = []
        self._body = []
        self._body_size = 0
        self._continue = False

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._parsed_head += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._parsed_head += len(name) + len(value) + 4
        if self._parsed_head > MAX_HEAD:
            raise _head_too_large()
        lowered = name.lower()
        self._headers.append((lowered, value))
        if lowered == b"content-length" and value.isdigit() and int(value) > self.server.max_body:
            self.too_large = True
        elif lowered == b"expect" and value.lower() == b"100-continue":
            self._continue = True

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self.too_large:
            if self._continue:  # it sends no body before a 100: refuse now
                raise self._too_large()
            self.deadline = trio.current_time() + BODY_WAIT
        elif self._continue:
            self.continue_due = True

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > self.server.max_body:
            if not self.too_large:
                self.too_large = True
                self.deadline = trio.current_time() + BODY_WAIT
            if self._body_size > 64 * self.server.max_body:
                raise self._too_large()
        elif not self.too_large:
            self._body.append(body)

    def on_message_complete(self) -> None:
        if self.too_large:
            raise self._too_large()
        parser = self.parser
        target = self._url.decode("latin-1")
        path, _, query = target.partition("?")
        if "%" in path:
            path = unquote(path)
        request = Request(
            parser.get_method().decode("ascii"),
            path,
            query,
            self._headers,
            body=b"".join(self._body),
            client=self.client,
            hold=self.hold,
        )
        request.keep_alive = parser.should_keep_alive()
        request.chunked_ok = parser.get_http_version() != "1.0"
        self.ready.append(request)

    def _too_large(self) -> _Refused:
        message = f"request body over {self.server.max_body} bytes"
        return _Refused(413, "PayloadTooLargeError", message)

    # --- reading and writing ---------------------------------------------------------

    async def next_request(self) -> Request | None:
        """The next complete request, or None if the client closed.  Raises _Refused."""
        ready = self.ready
        while not ready:
            if self.too_large:  # the rest of a refused body gets BODY_WAIT s at most
                with trio.CancelScope(deadline=self.deadline) as wait:
                    data = await self.receive()
                if wait.cancelled_caught:
                    raise self._too_large()
            else:
                data = await self.receive()
            if not data:
                return None
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserCallbackError as exc:
                if isinstance(exc.__context__, _Refused):
                    raise exc.__context__ from None
                raise
            except httptools.HttpParserUpgrade:
                message = "protocol upgrades are not supported"
                raise _Refused(400, "BadRequestError", message) from None
            except httptools.HttpParserError as exc:
                raise _Refused(400, "BadRequestError", f"malformed request: {exc}") from None
            if self._in_head:  # a head still incomplete: bound what it may buffer
                self._head_size += len(data)  # (this chunk may end an earlier request:
                if self._head_size > 8 * MAX_HEAD:  # so a looser bound than on_header's)
                    raise _head_too_large()
            if self.continue_due:
                self.continue_due = False
                await self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        return ready.pop(0)

    async def receive(self) -> bytes:
        """The next bytes from the client (``b""``: it closed).  A checkpoint only when
        it waits.  Raises OSError if the connection broke."""
        sock = self.sock
        while True:
            try:
                return sock.recv(RECEIVE)
            except BlockingIOError:
                await trio.lowlevel.wait_readable(sock)

    async def send(self, data: bytes) -> None:
        """Send all of ``data``.  A checkpoint only when it waits.  Raises OSError if the
        connection broke."""
        sock = self.sock
        view = memoryview(data)
        while view:
            try:
                view = view[sock.send(view) :]
            except BlockingIOError:
                await trio.lowlevel.wait_writable(sock)

    async def _hold(self, wait: Coroutine[Any, Any, T]) -> T:
        """``Request.hold``: await ``wait``, cancelled if the client hangs up (ClientGone)
        or the server shuts down (ShuttingDown)."""
        server = self.server
        if server.closing:
            wait.close()
            raise ShuttingDown
        with trio.CancelScope() as scope:
            server.watch(self, scope)
            try:
                return await wait
            finally:
                server.unwatch(self, scope)
        if self.gone:
            raise ClientGone
        raise ShuttingDown

    def hung_up(self) -> None:
        """The client closed while a request was held: cancel the wait (``_hangups``)."""
        self.gone = True
        if self.held is not None:
            self.held.cancel()


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
        self.held: set[trio.CancelScope] = set()  # held requests and open streams
        self._open: set[_Connection] = set()
        self._hangups: Hangups | TaskHangups | None = None
        self._drained = trio.Event()
        self._stop = trio.Event()

    async def serve(
        self,
        listeners: list[socket.socket],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Accept on ``listeners`` (bound, listening) and serve until :meth:`shutdown` and
        its graceful window are over; then close them."""
        try:
            async with trio.open_nursery() as connections:
                hangups = Hangups() if Hangups.available else TaskHangups(connections)
                self._hangups = hangups
                connections.start_soon(hangups.run)
                connections.start_soon(self._sweep_idle)
                async with trio.open_nursery() as accepting:
                    for listener in listeners:
                        listener.setblocking(False)
                        accepting.start_soon(self._accept, listener, connections)
                    task_status.started()
                    await self._stop.wait()
                    accepting.cancel_scope.cancel()
                for listener in listeners:
                    listener.close()
                if self._open:
                    with trio.move_on_after(self.graceful_timeout):
                        await self._drained.wait()
                connections.cancel_scope.cancel()
        finally:
            for listener in listeners:
                listener.close()

    async def _sweep_idle(self) -> None:
        """Close connections idle for ``keep_alive`` seconds (checked every half of it, at
        most every second): one task for all, not a deadline per request."""
        while True:
            await trio.sleep(min(self.keep_alive / 2, 1.0))
            cutoff = trio.current_time() - self.keep_alive
            for connection in list(self._open):
                if connection.idle is not None and connection.idle_since <= cutoff:
                    connection.idle.cancel()

    async def _accept(self, listener: socket.socket, connections: trio.Nursery) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except BlockingIOError:
                await trio.lowlevel.wait_readable(listener)
                continue
            except OSError as exc:
                if exc.errno in _OUT_OF_RESOURCES:  # as trio.serve_listeners does
                    log.warning("accept: %s; retrying in 0.1 s", exc)
                    await trio.sleep(0.1)
                    continue
                if exc.errno in _ACCEPT_AGAIN:
                    continue
                raise
            sock.setblocking(False)
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connections.start_soon(self._connection, sock)

    def shutdown(self) -> None:
        """Stop accepting; close idle connections and end held requests and streams; busy
        ones close after their answer.  Never blocks; idempotent."""
        self.closing = True
        self._stop.set()
        for connection in list(self._open):
            if connection.idle is not None:
                connection.idle.cancel()
        for scope in list(self.held):
            scope.cancel()
        if not self._open:
            self._drained.set()

    def watch(self, connection: _Connection, scope: trio.CancelScope) -> None:
        """Hold ``scope``: cancel it if the client hangs up or the server shuts down."""
        connection.held = scope
        self.held.add(scope)
        assert self._hangups is not None
        self._hangups.watch(connection.sock, connection)

    def unwatch(self, connection: _Connection, scope: trio.CancelScope) -> None:
        connection.held = None
        self.held.discard(scope)
        if self._hangups is not None:
            self._hangups.unwatch(connection.sock)

    async def _connection(self, sock: socket.socket) -> None:
        connection = _Connection(sock, self)
        self._open.add(connection)
        try:
            await self._requests(connection)
        except _Refused as refused:
            await self._send_error(connection, refused.response)
        except OSError:
            pass  # the connection broke (reset, broken pipe): the client went away
        finally:
            self._open.discard(connection)
            if self.closing and not self._open:
                self._drained.set()
            trio.lowlevel.notify_closing(sock)
            sock.close()

    async def _requests(self, connection: _Connection) -> None:
        while not self.closing:
            if connection.ready:  # pipelined: let other connections run in between
                await trio.lowlevel.checkpoint()
            request = None
            with trio.CancelScope() as idle:  # cancelled by _sweep_idle or shutdown()
                connection.idle = idle
                connection.idle_since = trio.current_time()
                request = await connection.next_request()
            connection.idle = None
            if request is None:
                return
            if not await self._exchange(connection, request):
                return

    async def _exchange(self, connection: _Connection, request: Request) -> bool:
        """Answer one request; False if the connection is done for."""
        try:
            response = await self.app(request)
        except ClientGone:
            return False
        except Exception:
            log.exception("the app failed to answer %s %s", request.method, request.path)
            response = error_response(500, "InternalError", "internal error")
        close = self.closing or not request.keep_alive
        if type(response) is Stream:
            await self._stream(connection, response, request, close)
            return not close and not connection.gone and request.chunked_ok
        await connection.send(_whole(response, close, with_body=request.method != "HEAD"))
        return not close

    async def _stream(
        self, connection: _Connection, response: Stream, request: Request, close: bool
    ) -> None:
        """Send a stream, chunked (close-delimited to an HTTP/1.0 client), until it ends,
        the client hangs up, or the server shuts down."""
        chunks = response.chunks
        send = connection.send
        chunked = request.chunked_ok
        try:
            lines = _head(response.status, response.headers, close or not chunked)
            lines.append(b"transfer-encoding: chunked\r\n\r\n" if chunked else b"\r\n")
            await send(b"".join(lines))
            with trio.CancelScope() as scope:
                self.watch(connection, scope)
                try:
                    async for chunk in chunks:
                        await send(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                finally:
                    self.unwatch(connection, scope)
            if chunked and not connection.gone:
                await send(b"0\r\n\r\n")
        finally:
            await chunks.aclose()  # type: ignore[attr-defined] # an async generator

    async def _send_error(self, connection: _Connection, response: Response) -> None:
        try:
            await connection.send(_whole(response, close=True))
        except OSError:
            pass

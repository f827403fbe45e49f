"""Serving an ASGI app with hypercorn's trio worker inside the caller's ``trio.run``.

:func:`serve` does what ``hypercorn.trio.serve`` (``hypercorn.trio.run.worker_serve``) does,
without worker processes, reloading, signals, QUIC, statsd or ``max_requests``.  ASGI
lifespan is kept: QuartTrio runs ``before_serving``/``after_serving`` and opens the nursery
of its background tasks there.  Only TCP binds (``host:port``) are served.

Every adaptation of hypercorn lives in this module.  Each works around a defect of
hypercorn 0.18.0 (with quart-trio 0.12.0 where said):

1. One connection's failure ends the server: ``TCPServer.run`` catches only ``OSError``, so
   any other exception (``h11.LocalProtocolError`` from ``WSStream._send_error_response``
   after a WebSocket upgrade to a plain route with a request pipelined behind it) leaves
   ``serve`` and the whole trio run.  Here a connection's failure is logged (logger
   ``agentactors.http``) and ends that connection only (:meth:`_Connection.run`).
2. Connection work done in the app's task is cancelled: hypercorn closes a finished
   connection, and restarts its keep-alive timer, from the task that sent the answer, and
   quart-trio cancels that task when hypercorn sends it ``http.disconnect`` at the end of
   the answer.  So ``Connection: close`` and HTTP/1.0 connections stay open, and kept-alive
   connections never time out and hold a graceful shutdown for its whole window.  Here the
   close and the timer are shielded (:meth:`_Connection.protocol_send`); neither blocks (a
   TLS close is bounded by ``ssl_handshake_timeout``).
3. Writes are shielded (``TCPServer.protocol_send``), so a client that stops reading holds
   ``serve`` past the graceful window.  Here the sockets still open at the end of the
   window are closed (:meth:`_Connection.abort`), which ends their writes.
4. The server's own error answers (a malformed request: 400; a head over
   ``h11_max_incomplete_size``: 431) have no body, and a head over that size that arrives
   whole is served (h11 checks the size of an incomplete head only).  Here they have a JSON
   body ``{"_tag", "message"}`` and any head over the size is a 431.
5. A request with both Content-Length and Transfer-Encoding is served on a connection kept
   open (RFC 9112 §6.3: close it after the answer).  Here it is refused: 400, closed.
6. An answer sent before the request's body was read (the body arriving after it) leaves
   the connection hanging (closed, with 2).  Here the rest of the body is read and dropped
   (within ``keep_alive_timeout``, at most :data:`DRAIN_MAX` bytes, or the connection is
   closed), then the next request on the connection is served.
7. An answer's head and body go out in two writes.  Here the head of an answer with a
   Content-Length waits for the body's first bytes (or its end) and goes out with them;
   a streamed answer (no length: server-sent events) sends its head at once.
8. A WebSocket handshake hypercorn refuses itself (``WSStream._send_error_response``: 400
   for bytes before the app accepted, 404, 500) leaves its connection open with the
   keep-alive timer stopped, until shutdown.  Here the connection closes once a WebSocket
   request's HTTP answer is sent (hypercorn never reuses it).
9. ``Config.create_sockets`` leaves open the socket it failed to bind (a ResourceWarning).
   Here the sockets are made by :func:`_bind`, ``host:port`` binds only.
10. The keep-alive timer is restarted at every answer and stopped at every request by
    starting a new task (``TrioSingleTask.restart``: a lock, a cancel, a task and a
    scheduler round trip for ``nursery.start``): a third of a small request's cost.  Here
    there is no timer task: the connection's read (always in progress) carries the
    keep-alive deadline, which an answer or a request moves
    (:meth:`_Connection.set_idle_deadline`).
11. A write takes the connection's send lock with ``async with``, which yields to the
    scheduler even when no other task holds it (a round trip of the run loop per
    answer).  Here an uncontended lock is taken without yielding
    (:meth:`_Connection._write`); a contended one as hypercorn does.

Slow heads: the keep-alive timer runs from a connection's start, and from each answer,
until a whole request head has arrived, so a head trickled in (slowloris) is closed after
``keep_alive_timeout``.  ``read_timeout`` bounds each read, not a head.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from math import inf
from typing import Any

import h11
import trio
from hypercorn.config import Config
from hypercorn.events import Closed, Event, RawData, Updated
from hypercorn.protocol import ProtocolWrapper
from hypercorn.protocol.events import Body, EndBody, StreamClosed
from hypercorn.protocol.events import Event as StreamEvent
from hypercorn.protocol.h11 import STREAM_ID, H11Protocol
from hypercorn.protocol.http_stream import HTTPStream
from hypercorn.protocol.ws_stream import WSStream
from hypercorn.trio.lifespan import Lifespan
from hypercorn.trio.task_group import TaskGroup
from hypercorn.trio.tcp_server import MAX_RECV, TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import AppWrapper, ConnectionState, H11SendableEvent, LifespanState
from hypercorn.utils import parse_socket_addr, wrap_app

from ._errors import HTTP_TAGS

log = logging.getLogger("agentactors.http")

DRAIN_MAX = 1024 * 1024
"""Bytes of a request body read and dropped after an early answer to keep the connection
(adaptation 6); a longer body closes it."""

_MESSAGE_MAX = 200
"""Characters of h11's description of a malformed request kept in the error message."""

Stream = trio.SocketStream | trio.SSLStream[trio.SocketStream]
Listener = trio.SocketListener | trio.SSLListener[trio.SocketStream]


async def serve(
    app: Any,  # an ASGI app: hypercorn's ASGIFramework is a union of protocols
    config: Config,
    *,
    shutdown_trigger: Callable[[], Awaitable[None]],
    task_status: trio.TaskStatus[list[tuple[str, int]]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` on ``config.bind`` until ``shutdown_trigger`` returns, then shut down.

    Binds (backlog ``config.backlog``; TLS, and HTTP/2 by ALPN, when ``config.certfile``
    and ``keyfile`` are set; ``config.insecure_bind`` then serves plain HTTP), runs the
    app's lifespan startup, then calls ``task_status.started`` with the ``(host, port)``
    of each bind (the real port for port 0).  Shutdown: stop accepting, close idle
    connections at once and each busy one after its answer, wait up to
    ``config.graceful_timeout`` for those, close and cancel what is left, run the
    lifespan shutdown, return.

    Blocks until then.  Raises OSError if an address cannot be bound, ValueError for a
    bind that is not ``host:port``, and what the lifespan or ``shutdown_trigger`` raise;
    a failing connection is logged and closed, it never ends ``serve``.  Cancelling it
    closes and cancels every connection at once (no graceful window).
    """
    listeners, bound = _listen(config)
    asgi = wrap_app(app, config.wsgi_max_body_size, "asgi")
    context = WorkerContext(None)
    lifespan_state: LifespanState = {}
    lifespan = Lifespan(asgi, config, lifespan_state)
    state = ConnectionState(lifespan_state.copy())
    live: set[_Connection] = set()
    drained = trio.Event()

    async def handle(stream: Stream) -> None:
        connection = _Connection(asgi, config, context, state, stream)
        live.add(connection)
        try:
            await connection.run()
        finally:
            live.discard(connection)
            if not live and context.terminated.is_set():
                drained.set()

    try:
        async with trio.open_nursery() as lifespan_nursery:
            await lifespan_nursery.start(lifespan.handle_lifespan)
            await lifespan.wait_for_startup()
            async with trio.open_nursery() as connections:
                try:
                    async with trio.open_nursery() as accepting:
                        await accepting.start(
                            partial(
                                trio.serve_listeners,
                                handle,
                                listeners,
                                handler_nursery=connections,
                            )
                        )
                        task_status.started(bound)
                        await shutdown_trigger()
                        accepting.cancel_scope.cancel()  # the listeners close
                    await context.terminated.set()
                    for connection in live:
                        connection.set_idle_deadline()  # idle connections close at once
                    if live:
                        with trio.move_on_after(config.graceful_timeout):
                            await drained.wait()
                finally:
                    for connection in list(live):
                        connection.abort()
                    connections.cancel_scope.cancel()
            await lifespan.wait_for_shutdown()
            lifespan_nursery.cancel_scope.cancel()
    finally:
        for listener in listeners:
            await trio.aclose_forcefully(listener)


def _listen(config: Config) -> tuple[list[Listener], list[tuple[str, int]]]:
    """Bind ``config.bind`` (TLS when ``certfile`` and ``keyfile`` are set; then also
    ``insecure_bind``, plain) and listen: the listeners and their ``(host, port)``.

    Raises OSError if an address cannot be bound, ValueError for a bind that is not
    ``host:port``.  Nothing stays open when it raises.
    """
    if config.quic_bind:
        raise ValueError("QUIC binds are not served")
    ssl_context = config.create_ssl_context()
    binds = [(bind, ssl_context) for bind in config.bind]
    if ssl_context is not None:
        binds += [(bind, None) for bind in config.insecure_bind]
    listeners: list[Listener] = []
    bound: list[tuple[str, int]] = []
    opened: list[socket.socket] = []
    try:
        for bind, context in binds:
            opened.append(_bind(bind, config.backlog))
            host, port = opened[-1].getsockname()[:2]
            bound.append((str(host), int(port)))
            plain = trio.SocketListener(trio.socket.from_stdlib_socket(opened[-1]))
            if context is None:
                listeners.append(plain)
            else:
                listeners.append(trio.SSLListener(plain, context, https_compatible=True))
    except BaseException:
        for sock in opened:
            sock.close()
        raise
    return listeners, bound


def _bind(bind: str, backlog: int) -> socket.socket:
    """A listening, non-blocking TCP socket on ``host:port`` or ``[v6 host]:port``."""
    host, colon, port = bind.replace("[", "").replace("]", "").rpartition(":")
    if not colon or bind.startswith(("unix:", "fd://")):
        raise ValueError(f"not a TCP bind (host:port): {bind!r}")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, int(port)))
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class _Connection(TCPServer):
    """One client connection: hypercorn's ``TCPServer`` with adaptations 1-3."""

    def __init__(
        self,
        app: AppWrapper,
        config: Config,
        context: WorkerContext,
        state: ConnectionState,
        stream: Stream,
    ) -> None:
        # hypercorn annotates the TLS stream only; it serves plain SocketStreams the same
        super().__init__(app, config, context, state, stream)  # type: ignore[arg-type]
        self.tls = stream if isinstance(stream, trio.SSLStream) else None
        plain = stream if isinstance(stream, trio.SocketStream) else stream.transport_stream
        self.socket = plain.socket
        self.client: tuple[str, int] | None = None
        self._idle = True
        self._deadline = inf
        self._read_scope = trio.CancelScope()
        self.set_idle_deadline()

    async def run(self) -> None:
        """Serve the connection until either side ends it, then close it.

        Raises only ``trio.Cancelled``: any other failure is logged (adaptation 1).
        """
        try:
            await self._serve()
        except* OSError:
            pass  # the socket failed (the client went): hypercorn's TCPServer.run does the same
        except* Exception:
            log.exception("HTTP connection from %s failed; closed", self.client)
        finally:
            await self._close()

    async def _serve(self) -> None:
        """``TCPServer.run`` without its error handling, with :class:`_H11Protocol`."""
        if self.tls is not None:
            try:
                with trio.fail_after(self.config.ssl_handshake_timeout):
                    await self.tls.do_handshake()
            except (trio.BrokenResourceError, trio.TooSlowError):
                return  # the handshake failed
            alpn = self.tls.selected_alpn_protocol()
        else:
            alpn = "http/1.1"
        self.client = parse_socket_addr(self.socket.family, self.socket.getpeername())
        server = parse_socket_addr(self.socket.family, self.socket.getsockname())
        args = (self.app, self.config, self.context)
        async with TaskGroup() as task_group:
            self._task_group = task_group
            state = ConnectionState(self.state)
            ssl = self.tls is not None
            send = self.protocol_send
            self.protocol = ProtocolWrapper(
                *args, task_group, state, ssl, self.client, server, send, alpn
            )
            if isinstance(self.protocol.protocol, H11Protocol):
                self.protocol.protocol = _H11Protocol(
                    *args, task_group, state, ssl, self.client, server, send
                )
            await self.protocol.initiate()
            await self._read_data()

    async def protocol_send(self, event: Event) -> None:
        """Write, close or move the keep-alive deadline, for the protocol.

        A write blocks until the bytes are sent (hypercorn shields it; :meth:`abort` ends
        it); a close is shielded (adaptation 2) and does not block; a deadline change
        never awaits (adaptation 10).
        """
        if isinstance(event, RawData):
            await self._write(event.data)
        elif isinstance(event, Updated):
            self._idle = event.idle
            self.set_idle_deadline()
        else:
            with trio.CancelScope(shield=True):
                await super().protocol_send(event)

    async def _write(self, data: bytes) -> None:
        """``TCPServer.protocol_send`` for bytes, without its scheduler round trip when
        no other task is writing (adaptation 11).  Blocks until sent; shielded.  Raises
        Cancelled before writing when the caller is cancelled, as the lock's acquire
        does: a writer looping on a closed connection still ends."""
        await trio.lowlevel.checkpoint_if_cancelled()
        try:
            self.send_lock.acquire_nowait()
        except trio.WouldBlock:
            await super().protocol_send(RawData(data=data))
            return
        try:
            with trio.CancelScope(shield=True):
                await self.stream.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            await self.protocol.handle(Closed())
        finally:
            self.send_lock.release()

    def set_idle_deadline(self) -> None:
        """Busy: no deadline; idle: ``keep_alive_timeout`` from now, or now once the
        server is shutting down.  Moves the deadline of the read in progress, if any.
        Never blocks."""
        if not self._idle:
            self._deadline = inf
        elif self.context.terminated.is_set():
            self._deadline = -inf
        else:
            self._deadline = trio.current_time() + self.config.keep_alive_timeout
        self._read_scope.deadline = self._deadline

    async def _read_data(self) -> None:
        """hypercorn's read loop, each read bounded by the keep-alive deadline: an idle
        connection whose deadline passes is closed (adaptation 10).  ``read_timeout`` is
        not used (it bounds a read, never a head: see the module doc)."""
        while True:
            self._read_scope = trio.CancelScope(deadline=self._deadline)
            try:
                with self._read_scope:
                    data = await self.stream.receive_some(MAX_RECV)
            except (trio.ClosedResourceError, trio.BrokenResourceError):
                break
            if self._read_scope.cancelled_caught:  # idle past the deadline
                with trio.CancelScope(shield=True):
                    await self._initiate_server_close()
                return
            await self.protocol.handle(RawData(bytes(data)))
            if data == b"":
                break
        await self.protocol.handle(Closed())

    async def _close(self) -> None:
        # Callers may be shielded: a TLS close_notify a client does not read is bounded.
        with trio.move_on_after(self.config.ssl_handshake_timeout) as bounded:
            await super()._close()
        if bounded.cancelled_caught:
            await trio.aclose_forcefully(self.stream)

    def abort(self) -> None:
        """Close the socket now: blocked reads and writes raise ClosedResourceError."""
        self.socket.close()


class _BadHead(Exception):
    """A request the server answers itself, with a JSON error, then closes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _H11Protocol(H11Protocol):
    """hypercorn's HTTP/1.1 protocol with adaptations 4-8."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._write = self.send
        self.send = self._send
        self._hold = False
        self._head = b""

    async def handle(self, event: Event) -> None:
        try:
            await super().handle(event)
        except _BadHead as bad:
            await self._send_error_response(bad.status, str(bad))
            await self.send(Closed())

    async def stream_send(self, event: StreamEvent) -> None:
        await super().stream_send(event)
        if isinstance(event, EndBody) and isinstance(self.stream, WSStream):
            # adaptation 8: a WebSocket request answered over HTTP; hypercorn's own
            # refusals (WSStream._send_error_response) never close the connection
            await self.send(Closed())

    async def _check_protocol(self, event: h11.Request) -> None:
        # the head's size as sent: request line, header lines, blank line
        size = len(event.method) + len(event.target) + len(event.http_version) + 11
        framing = 0
        for name, value in event.headers.raw_items():
            size += len(name) + len(value) + 4
            lowered = name.lower()
            if lowered == b"content-length":
                framing |= 1
            elif lowered == b"transfer-encoding":
                framing |= 2
        limit = self.config.h11_max_incomplete_size
        if size > limit:
            raise _BadHead(431, f"request head larger than {limit} bytes")
        if framing == 3:
            raise _BadHead(400, "request has both Content-Length and Transfer-Encoding")
        await super()._check_protocol(event)

    async def _send_error_response(self, status_code: int, message: str | None = None) -> None:
        """Answer an error of the server's own with a JSON body; the connection closes.

        Without ``message``, hypercorn calls it while handling h11's RemoteProtocolError,
        which gives the message.
        """
        if message is None:
            if status_code == 431:
                limit = self.config.h11_max_incomplete_size
                message = f"request head larger than {limit} bytes"
            else:
                error = sys.exception()
                described = str(error) if isinstance(error, h11.ProtocolError) else ""
                message = f"malformed request: {described or 'unreadable'}"[:_MESSAGE_MAX]
        tag = HTTP_TAGS.get(status_code, "BadRequestError")
        body = json.dumps({"_tag": tag, "message": message}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
            (b"connection", b"close"),
            *self.config.response_headers("h11"),
        ]
        await self._send_h11_event(h11.Response(status_code=status_code, headers=headers))
        await self._send_h11_event(h11.Data(data=body))
        await self._send_h11_event(h11.EndOfMessage())

    async def _send_h11_event(self, event: H11SendableEvent) -> None:
        # adaptation 7: the head of an answer with a length waits for its body (see _send)
        self._hold = isinstance(event, h11.Response) and any(
            name == b"content-length" for name, _ in event.headers
        )
        try:
            await super()._send_h11_event(event)
        finally:
            self._hold = False

    async def _send(self, event: Event) -> None:
        if isinstance(event, RawData):
            if self._hold:
                self._hold = False
                self._head = event.data
                return
            if self._head:
                event = RawData(data=self._head + event.data)
                self._head = b""
            elif not event.data:
                return  # the end of a body with a length: nothing to write
        elif self._head:
            head, self._head = self._head, b""
            await self._write(RawData(data=head))
        await self._write(event)

    async def _maybe_recycle(self) -> None:
        # adaptation 6: answered before the whole body came; read and drop the rest
        connection = self.connection
        if (
            isinstance(connection, h11.Connection)
            and connection.our_state is h11.DONE
            and connection.their_state is h11.SEND_BODY
            and not self.context.terminated.is_set()
        ):
            # the drain is in place before anything awaits: the reader may go on at once
            answered, self.stream = self.stream, _Drain(self)
            await self.send(Updated(idle=True))  # the rest comes within keep_alive_timeout
            if answered is not None:
                await answered.handle(StreamClosed(stream_id=STREAM_ID))  # http.disconnect
            return
        await super()._maybe_recycle()


class _Drain(HTTPStream):
    """The rest of a request body the app answered without reading: dropped (up to
    :data:`DRAIN_MAX` bytes, else the connection closes), then the connection is reused."""

    def __init__(self, protocol: _H11Protocol) -> None:
        super().__init__(
            protocol.app,
            protocol.config,
            protocol.context,
            protocol.task_group,
            protocol.ssl,
            protocol.client,
            protocol.server,
            protocol.stream_send,
            STREAM_ID,
        )
        self.protocol = protocol
        self.left = DRAIN_MAX

    async def handle(self, event: StreamEvent) -> None:
        if isinstance(event, Body):
            self.left -= len(event.data)
            if self.left < 0:
                await self.protocol.send(Closed())
        elif isinstance(event, EndBody):
            await self.protocol._maybe_recycle()  # the request is whole: next one

"""Server-sent event streams: ``GET /event`` (one directory) and ``GET /global/event``.

A stream subscribes to the bus *before* the response starts, so every event published
after the client sees ``server.connected`` reaches it.  Then: the events after
``Last-Event-ID`` that the bus still holds (or one ``server.resync`` if it holds that id
no more: list the pending requests again), then live events, with ``server.heartbeat``
whenever ``config.heartbeat`` seconds pass without one.

Each message is one ``data:`` line of ``{"id", "type", "properties"}`` (the global
stream wraps it as ``{"directory", "project", "payload"}``); bus events also carry an SSE
``id:`` line, which a reconnecting client sends back as ``Last-Event-ID``.  Synthetic
events (connected, heartbeat, lagged, resync, skipped) have none, so they never become a
resume point the bus does not know.

Bounded: at most ``config.max_streams`` streams are open at once (past it, 503
``TooManyStreamsError``), and each holds at most ``config.stream_buffer_bytes`` bytes of
encoded events, buffered or being sent (its subscription weighs each event as its
encoded message).  A stream whose client reads too slowly loses its oldest events and is
told so by one ``bus.lagged {"dropped": n}``; reconnecting with the ``Last-Event-ID`` it
last saw replays what the bus still holds.  The write path holds one chunk (at most
:data:`BATCH` events or about :data:`CHUNK_BYTES`) and blocks while the client's socket
is full.  An event that cannot be encoded (a bug: events are encodable by construction) is
logged and sent as ``server.skipped {eventID, type, reason}``; the stream goes on.

A stream ends when the client goes away (quart-trio cancels it), at a graceful shutdown
(its wait is held: ``Held``), or when the bus stops.  No response timeout applies to it.
Cleanup (:meth:`OpenStream.close`) never awaits; it also runs when the body is dropped
unstarted (the client went away before the answer began).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

import trio
from quart import Blueprint, Response, request

from agentactors.actors import LAGGED, Closed, Subscription, api, make_event, subscribe_now
from agentactors.model import Event, wire

from ._context import Held, context
from ._doc import answers, stream
from ._errors import ShuttingDown
from ._inputs import check_id, directory, headers, scoped
from ._json import dumps
from ._models import EVENT_ID, GlobalEvent, StreamHeaders
from ._models import Event as EventModel
from ._streams import OpenStream

RESYNC = "server.resync"
SKIPPED = "server.skipped"
STREAM_HEADERS = {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
}
GLOBAL = "global"
BATCH = 64
"""Events at most in one chunk of a stream."""
CHUNK_BYTES = 64 << 10
"""A chunk ends once it holds this many bytes (so it holds at most this plus one event)."""

log = logging.getLogger("agentactors.http")

Frame = Callable[[Event], dict[str, Any]]

blueprint = Blueprint("events", __name__)


@blueprint.get("/event")
@answers(EventModel)
@stream
@headers(StreamHeaders)
@scoped
async def event_stream() -> Response:
    """Events of the directory in scope (SSE)

    server.connected first, server.heartbeat when idle, then events as {id, type,
    properties}; Last-Event-ID replays what the server still holds.
    """
    return await _open(directory(context().settings.directory), wire.event)


@blueprint.get("/global/event")
@answers(GlobalEvent)
@stream
@headers(StreamHeaders)
async def global_event_stream() -> Response:
    """Events of every directory (SSE)

    As /event, each wrapped as {directory, project, payload}.
    """
    return await _open(None, _global)


def _global(event: Event) -> dict[str, Any]:
    return {"directory": event.directory or GLOBAL, "project": GLOBAL, "payload": wire.event(event)}


def _last_event_id() -> str | None:
    value = request.headers.get("last-event-id")
    if value is not None:
        check_id("Last-Event-ID", value, EVENT_ID, "Headers")
    return value


async def _open(scope: str | None, frame: Frame) -> Response:
    """Subscribe, fetch the replay, and answer with the stream.  Raises TooManyStreams
    (503) when ``config.max_streams`` are open.  Cancel-safe: a subscription made here is
    closed if this is cancelled, or the body dropped, before the stream starts."""
    last_id = _last_event_id()
    if request.method == "HEAD":
        return Response("", 200, headers=STREAM_HEADERS)
    ctx = context()
    config = ctx.config
    subscription = Subscription(
        directory=scope,
        maxlen=config.bus_buffer,
        max_bytes=config.stream_buffer_bytes,
        weigh=partial(_weight, frame),
    )
    stream = ctx.streams.admit(request.path, scope, subscription)
    try:
        subscribe_now(subscription)  # no await: nothing can cancel it half-done
        replay = await _replay(subscription, last_id) if last_id else []
    except BaseException:
        stream.close()
        raise
    body = _frames(stream, replay, frame, config.heartbeat, ctx.held)
    weakref.finalize(body, stream.close)  # a body never started never runs its finally
    response = Response(body, 200, headers=STREAM_HEADERS)
    response.timeout = None  # a stream lives until the client, the bus or a shutdown ends it
    return response


async def _replay(subscription: Subscription, last_id: str) -> list[Event]:
    held = await api.events_since(last_id)
    if held is None:
        return [make_event(RESYNC, {"lastEventID": last_id, "reason": "no longer held"})]
    return [event for event in held if subscription.accepts(event)]


async def _frames(
    stream: OpenStream,
    replay: list[Event],
    frame: Frame,
    heartbeat: float,
    held: Held,
) -> AsyncIterator[bytes]:
    """The stream body.  The replayed events may also arrive live (published between
    subscribing and the replay): those duplicates are skipped by id.  Events already
    waiting when the stream wakes go out together, as one chunk; its bytes count against
    the stream's cap until it is sent (the next ``release``)."""
    subscription = stream.subscription
    try:
        yield _encode(frame(make_event("server.connected", {})), None)
        replayed = {held.id for held in replay if held.type != RESYNC}
        for held_event in replay:
            resync = held_event.type == RESYNC  # no id: line (the bus never had it)
            yield _encode(frame(held_event), None) if resync else _message(frame, held_event)
        while True:
            subscription.release()  # the last chunk is sent
            try:
                next_event = await _next(subscription, heartbeat, held)
            except (Closed, ShuttingDown):
                return
            if next_event is None:
                yield _encode(frame(make_event("server.heartbeat", {})), None)
                continue
            event = next_event
            messages: list[bytes] = []
            size = 0
            while True:
                if event.id in replayed:
                    replayed.discard(event.id)
                else:
                    messages.append(_message(frame, event))
                    size += len(messages[-1])
                if len(messages) >= BATCH or size >= CHUNK_BYTES:
                    break
                try:
                    waiting = subscription.get_nowait()
                except Closed:
                    break
                if waiting is None:
                    break
                event = waiting
            if messages:
                chunk = b"".join(messages)
                messages.clear()  # the chunk alone holds these bytes while it is sent
                yield chunk
    finally:
        stream.close()  # never blocks: safe on cancellation


async def _next(subscription: Subscription, heartbeat: float, held: Held) -> Event | None:
    """The next event, or None after ``heartbeat`` seconds.  Raises Closed, or
    ShuttingDown at a graceful shutdown."""
    with trio.move_on_after(heartbeat):
        return await held.hold(subscription.receive())
    return None


_encoded: dict[tuple[Frame, str], bytes] = {}
_encoded_bytes = 0
_encoded_lock = threading.Lock()
_ENCODED_MAX = 256
_ENCODED_BYTES = 8 << 20


def _weight(frame: Frame, event: Event) -> int:
    """An event's weight in a stream of this framing: its message's bytes."""
    return len(_message(frame, event))


def _message(frame: Frame, event: Event) -> bytes:
    """The SSE message of a bus event in this stream's framing.  Every stream sends the
    same bytes for an event, so they are made once (when the first stream weighs it, in
    the publisher's thread) and kept for the others: the newest :data:`_ENCODED_MAX`
    events, :data:`_ENCODED_BYTES` at most.  Any thread; never raises."""
    key = (frame, event.id)
    message = _encoded.get(key)  # one dict read is atomic: no lock (writers take it)
    if message is not None:
        return message
    message = _render(frame, event)
    if event.type != LAGGED:  # a lagged notice is one stream's own
        _keep(key, message)
    return message


def _keep(key: tuple[Frame, str], message: bytes) -> None:
    global _encoded_bytes  # noqa: PLW0603 - the module's one cache
    with _encoded_lock:
        if key in _encoded:
            return
        _encoded[key] = message
        _encoded_bytes += len(message)
        while len(_encoded) > _ENCODED_MAX or (
            _encoded_bytes > _ENCODED_BYTES and len(_encoded) > 1
        ):
            _encoded_bytes -= len(_encoded.pop(next(iter(_encoded))))


def _render(frame: Frame, event: Event) -> bytes:
    """The message of ``event``, or, if it cannot be encoded (a bug, logged), one
    ``server.skipped`` notice naming it."""
    try:
        return _encode(frame(event), None if event.type == LAGGED else event.id)
    except Exception as exc:  # one bad event never ends a stream
        log.exception("event %s (%s) cannot be encoded; sent as %s", event.id, event.type, SKIPPED)
        reason = f"cannot be encoded: {type(exc).__name__}"
        notice = make_event(SKIPPED, {"eventID": event.id, "type": event.type, "reason": reason})
        return _encode(frame(notice), None)


def _encode(data: dict[str, Any], event_id: str | None) -> bytes:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}data: {dumps(data)}\n\n".encode()

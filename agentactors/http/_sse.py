"""Server-sent event streams: ``GET /event`` (one directory) and ``GET /global/event``.

A stream subscribes to the bus *before* the response starts, so every event published
after the client sees ``server.connected`` reaches it.  Then: the events after
``Last-Event-ID`` that the bus still holds (or one ``server.resync`` if it holds that id
no more: list the pending requests again), then live events, with ``server.heartbeat``
whenever ``config.heartbeat`` seconds pass without one.

Each message is one ``data:`` line of ``{"id", "type", "properties"}`` (the global
stream wraps it as ``{"directory", "project", "payload"}``); bus events also carry an SSE
``id:`` line, which a reconnecting client sends back as ``Last-Event-ID``.  Synthetic
events (connected, heartbeat, lagged, resync) have none, so they never become a resume
point the bus does not know.

A stream ends when the client goes away (quart-trio cancels it), at a graceful shutdown
(its wait is held: ``Held``), or when the bus stops.  No response timeout applies to it.
Cleanup (``api.unsubscribe``) never awaits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import trio
from quart import Blueprint, Response, request

from agentactors.actors import LAGGED, Closed, Event, Subscription, api, make_event, wire

from ._context import Held, context
from ._doc import answers, stream
from ._errors import ShuttingDown
from ._inputs import check_id, directory, headers, scoped
from ._json import dumps
from ._models import EVENT_ID, GlobalEvent, StreamHeaders
from ._models import Event as EventModel

RESYNC = "server.resync"
STREAM_HEADERS = {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
}
GLOBAL = "global"
BATCH = 64
"""Events at most in one chunk of a stream."""

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
    """Subscribe, fetch the replay, and answer with the stream.  Cancel-safe: a
    subscription made here is closed if this is cancelled before the stream starts."""
    last_id = _last_event_id()
    if request.method == "HEAD":
        return Response("", 200, headers=STREAM_HEADERS)
    ctx = context()
    config = ctx.config
    subscription = await api.subscribe(directory=scope, maxlen=config.bus_buffer)
    try:
        replay = await _replay(subscription, last_id) if last_id else []
    except BaseException:
        api.unsubscribe(subscription)
        raise
    body = _frames(subscription, replay, frame, config.heartbeat, ctx.held)
    response = Response(body, 200, headers=STREAM_HEADERS)
    response.timeout = None  # a stream lives until the client, the bus or a shutdown ends it
    return response


async def _replay(subscription: Subscription, last_id: str) -> list[Event]:
    held = await api.events_since(last_id)
    if held is None:
        return [make_event(RESYNC, {"lastEventID": last_id, "reason": "no longer held"})]
    return [event for event in held if subscription.accepts(event)]


async def _frames(
    subscription: Subscription,
    replay: list[Event],
    frame: Frame,
    heartbeat: float,
    held: Held,
) -> AsyncIterator[bytes]:
    """The stream body.  The replayed events may also arrive live (published between
    subscribing and the replay): those duplicates are skipped by id.  Events already
    waiting when the stream wakes go out together, as one chunk."""
    try:
        yield _encode(frame(make_event("server.connected", {})), None)
        replayed = {held.id for held in replay if held.type != RESYNC}
        for held_event in replay:
            yield _encode(frame(held_event), held_event.id if held_event.id in replayed else None)
        while True:
            try:
                next_event = await _next(subscription, heartbeat, held)
            except (Closed, ShuttingDown):
                return
            if next_event is None:
                yield _encode(frame(make_event("server.heartbeat", {})), None)
                continue
            event = next_event
            messages: list[bytes] = []
            while True:
                if event.id in replayed:
                    replayed.discard(event.id)
                else:
                    messages.append(_message(frame, event))
                if len(messages) >= BATCH:
                    break
                try:
                    waiting = subscription.get_nowait()
                except Closed:
                    break
                if waiting is None:
                    break
                event = waiting
            if messages:
                yield b"".join(messages)
    finally:
        api.unsubscribe(subscription)  # never blocks: safe on cancellation


async def _next(subscription: Subscription, heartbeat: float, held: Held) -> Event | None:
    """The next event, or None after ``heartbeat`` seconds.  Raises Closed, or
    ShuttingDown at a graceful shutdown."""
    with trio.move_on_after(heartbeat):
        return await held.hold(subscription.receive())
    return None


_encoded: dict[tuple[Frame, str], bytes] = {}
_ENCODED_MAX = 256


def _message(frame: Frame, event: Event) -> bytes:
    """The SSE message of a bus event in this stream's framing.  Every stream sends the
    same bytes for an event, so they are made once and kept for the next streams (the
    newest :data:`_ENCODED_MAX` events; trio thread only)."""
    key = (frame, event.id)
    message = _encoded.get(key)
    if message is None:
        message = _encode(frame(event), None if event.type == LAGGED else event.id)
        if event.type != LAGGED:  # a lagged notice is one stream's own
            if len(_encoded) >= _ENCODED_MAX:
                del _encoded[next(iter(_encoded))]
            _encoded[key] = message
    return message


def _encode(data: dict[str, Any], event_id: str | None) -> bytes:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}data: {dumps(data)}\n\n".encode()

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

A stream ends when the client goes away or the server shuts down (the server cancels
its sending; cleanup never awaits), or when the bus stops.  No response timeout
applies to it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import trio

from agentactors.actors import (
    LAGGED,
    Closed,
    Event,
    Subscription,
    api,
    make_event,
    wire,
)

from ._messages import Stream
from ._table import Call

RESYNC = "server.resync"
STREAM_HEADERS = (
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
)
GLOBAL = "global"

Frame = Callable[[Event], dict[str, Any]]


async def event_stream(call: Call) -> Stream:
    """``GET /event``: the events of the directory in scope (and directory-less ones)."""
    return await _open(call, call.directory, wire.event)


async def global_event_stream(call: Call) -> Stream:
    """``GET /global/event``: every event, wrapped with its directory."""
    return await _open(call, None, _global)


def _global(event: Event) -> dict[str, Any]:
    return {"directory": event.directory or GLOBAL, "project": GLOBAL, "payload": wire.event(event)}


async def _open(call: Call, directory: str | None, frame: Frame) -> Stream:
    """Subscribe, fetch the replay, and answer with the stream.  Cancel-safe: a
    subscription made here is closed if this is cancelled before the stream starts."""
    config = call.context.config
    subscription = await api.subscribe(directory=directory, maxlen=config.bus_buffer)
    try:
        last_id = call.query.get("Last-Event-ID")
        replay = await _replay(subscription, last_id) if last_id else []
    except BaseException:
        api.unsubscribe(subscription)
        raise
    body = _frames(subscription, replay, frame, config.heartbeat)
    return Stream(200, list(STREAM_HEADERS), body)


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
) -> AsyncIterator[bytes]:
    """The stream body.  The replayed events may also arrive live (published between
    subscribing and the replay): those duplicates are skipped by id.  Events already
    waiting when the stream wakes go out together, as one chunk."""
    try:
        yield _encode(frame(make_event("server.connected", {})), None)
        replayed = {held.id for held in replay if held.type != RESYNC}
        for held in replay:
            yield _encode(frame(held), held.id if held.id in replayed else None)
        while True:
            try:
                event = await _next(subscription, heartbeat)
            except Closed:
                return
            if event is None:
                yield _encode(frame(make_event("server.heartbeat", {})), None)
                continue
            messages: list[bytes] = []
            while True:
                if event.id in replayed:
                    replayed.discard(event.id)
                else:
                    messages.append(_message(frame, event))
                if len(messages) >= BATCH:
                    break
                try:
                    event = subscription.get_nowait()
                except Closed:
                    break
                if event is None:
                    break
            if messages:
                yield b"".join(messages)
    finally:
        api.unsubscribe(subscription)  # never blocks: safe on cancellation


BATCH = 64
"""Events at most in one chunk of a stream."""


async def _next(subscription: Subscription, heartbeat: float) -> Event | None:
    """The next event, or None after ``heartbeat`` seconds.  Raises Closed."""
    with trio.CancelScope(deadline=trio.current_time() + heartbeat):
        return await subscription.receive()
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
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}data: {text}\n\n".encode()

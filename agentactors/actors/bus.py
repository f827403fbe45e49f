"""The ``bus`` service: publish/subscribe with type filters and bounded subscribers.

Publishing is fire-and-forget (:func:`publish` returns at once).  Each event goes to
every matching :class:`Subscription` with ``offer`` (never blocks), and the last
``history`` events are kept so a reconnecting SSE client can replay from
``Last-Event-ID``.

The subscriptions and the history are the ``bus`` actor's own: only its thread touches
them, and everything reaches them through its mailbox — a service's batch of events (the
runtime's ``send_events``, the sink this module installs, tells ``PublishMany``), events
published from outside a service, subscribing, unsubscribing and replay.  The bus's
mailbox is one queue, so an event told after a ``Subscribe`` was told is offered to that
subscription.  ``offer`` only appends to a bounded buffer and schedules its reader's
wake-up: the bus never waits on a subscriber.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from agentactors.actors.runtime import (
    Request,
    Service,
    current_service,
    handles,
    install_event_sink,
    tell,
)
from agentactors.model import Event, new_id

from ._subscription import Subscription

BUS = "bus"

log = logging.getLogger(__name__)


@attrs.frozen
class Publish(Request[None]):
    event: Event


@attrs.frozen
class PublishMany(Request[None]):
    events: tuple[Event, ...]


@attrs.frozen
class Subscribe(Request[None]):
    subscription: Subscription


@attrs.frozen
class Unsubscribe:
    subscription: Subscription


@attrs.frozen
class Since(Request[list[Event] | None]):
    """Events after ``event_id`` still held (``None`` if that id is no longer held)."""

    event_id: str


@attrs.frozen
class BusStats:
    subscribers: int
    published: int
    held: int


@attrs.frozen
class Stats(Request[BusStats]):
    pass


class BusActor(Service):
    """Fan-out of events to subscriptions; keeps recent history.  Its state is touched
    only in its own thread."""

    def __init__(self, *, history: int = 1024) -> None:
        super().__init__()
        self._subscriptions: dict[str, Subscription] = {}
        self._history: deque[Event] = deque(maxlen=history)
        self._published = 0

    def _fan_out(self, events: Iterable[Event]) -> None:
        """Offer each event to every subscription that accepts it; never blocks, never
        raises (a broken filter harms no one)."""
        subscriptions = self._subscriptions
        for event in events:
            self._published += 1
            self._history.append(event)
            for subscription in list(subscriptions.values()):
                try:
                    if subscription.closed:
                        del subscriptions[subscription.id]
                    elif subscription.accepts(event):
                        subscription.offer(event)
                except Exception:  # offer never raises; a broken filter harms no one
                    log.exception("bus: subscription %s failed", subscription.id)

    @handles(Publish)
    def _publish(self, message: Publish) -> None:
        self._fan_out((message.event,))

    @handles(PublishMany)
    def _publish_many(self, message: PublishMany) -> None:
        self._fan_out(message.events)

    @handles(Subscribe)
    def _subscribe(self, message: Subscribe) -> None:
        self._subscriptions[message.subscription.id] = message.subscription

    @handles(Unsubscribe)
    def _unsubscribe(self, message: Unsubscribe) -> None:
        self._subscriptions.pop(message.subscription.id, None)
        message.subscription.close()

    @handles(Since)
    def _since(self, message: Since) -> list[Event] | None:
        events = list(self._history)
        for index, event in enumerate(events):
            if event.id == message.event_id:
                return events[index + 1 :]
        return None

    @handles(Stats)
    def _stats(self, _: Stats) -> BusStats:
        return BusStats(len(self._subscriptions), self._published, len(self._history))

    def teardown(self) -> None:
        subscriptions = list(self._subscriptions.values())
        self._subscriptions.clear()
        for subscription in subscriptions:
            subscription.close()


def make_event(type_: str, properties: Mapping[str, Any], directory: str | None = None) -> Event:
    """A new event with a fresh ``evt_`` id."""
    return Event(id=new_id("evt"), type=type_, properties=properties, directory=directory)


def publish(type_: str, properties: Mapping[str, Any], directory: str | None = None) -> Event:
    """Build and publish an event; never blocks (dropped if the bus is not running).

    From a service's handler the event joins that service's outbox and leaves with its
    batch when its inbox runs dry (after the batch is stored); from anywhere else it is
    posted to the bus.
    """
    event = make_event(type_, properties, directory)
    service = current_service()
    if service is not None and service.service_name != BUS:
        service.emit(event)
    else:
        tell(BUS, Publish(event))
    return event


def subscribe_now(subscription: Subscription) -> None:
    """Register ``subscription`` with the bus without waiting, from any thread (a
    service's ``setup`` cannot wait for the bus): its ``Subscribe`` is in the bus's
    mailbox when this returns, so every event published after this returns is offered
    to it (the mailbox is one queue).  Never blocks."""
    tell(BUS, Subscribe(subscription))


def _send_events(events: list[Event]) -> None:
    """Send a service's batch of events to the bus's mailbox; never blocks."""
    tell(BUS, PublishMany(tuple(events)) if len(events) > 1 else Publish(events[0]))


install_event_sink(_send_events)

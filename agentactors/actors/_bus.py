"""The ``bus`` service: publish/subscribe with type filters and bounded subscribers.

Publishing is fire-and-forget (:func:`publish` posts and returns).  The bus hands each
event to every matching :class:`Subscription` with ``offer`` (never blocks), and keeps the
last ``history`` events so a reconnecting SSE client can replay from ``Last-Event-ID``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

import attrs

from ._bridge import tell
from ._ids import new_id
from ._models import Event
from ._service import Service, current_service, handles
from ._subscription import Subscription

BUS = "bus"


@attrs.frozen
class Publish:
    event: Event


@attrs.frozen
class PublishMany:
    events: tuple[Event, ...]


@attrs.frozen
class Subscribe:
    subscription: Subscription


@attrs.frozen
class Unsubscribe:
    subscription: Subscription


@attrs.frozen
class Since:
    """Events after ``event_id`` still held (``None`` if that id is no longer held)."""

    event_id: str


@attrs.frozen
class BusStats:
    subscribers: int
    published: int
    held: int


@attrs.frozen
class Stats:
    pass


class Bus(Service):
    """Fan-out of events to subscriptions; keeps recent history."""

    def __init__(self, *, history: int = 1024) -> None:
        super().__init__()
        self._subscriptions: dict[str, Subscription] = {}
        self._history: deque[Event] = deque(maxlen=history)
        self._published = 0

    @handles(Publish)
    def _publish(self, message: Publish) -> None:
        self._fan_out(message.event)

    @handles(PublishMany)
    def _publish_many(self, message: PublishMany) -> None:
        for event in message.events:
            self._fan_out(event)

    def _fan_out(self, event: Event) -> None:
        self._published += 1
        self._history.append(event)
        for subscription in list(self._subscriptions.values()):
            if subscription.closed:
                del self._subscriptions[subscription.id]
            elif subscription.accepts(event):
                subscription.offer(event)

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
        for subscription in self._subscriptions.values():
            subscription.close()
        self._subscriptions.clear()


def make_event(type_: str, properties: Mapping[str, Any], directory: str | None = None) -> Event:
    """A new event with a fresh ``evt_`` id."""
    return Event(id=new_id("evt"), type=type_, properties=properties, directory=directory)


def publish(type_: str, properties: Mapping[str, Any], directory: str | None = None) -> Event:
    """Build and publish an event; never blocks (dropped if the bus is not running).

    From a service's handler the event joins that service's outbox and leaves in a
    batch when its inbox runs dry (one bus wake-up for many events under load).
    """
    event = make_event(type_, properties, directory)
    service = current_service()
    if service is not None and service.service_name != BUS:
        service.emit(event)
    else:
        tell(BUS, Publish(event))
    return event


def send_events(events: list[Event]) -> None:
    """Hand a batch of events to the bus in one message."""
    tell(BUS, PublishMany(tuple(events)) if len(events) > 1 else Publish(events[0]))

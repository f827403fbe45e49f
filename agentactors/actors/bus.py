"""The ``bus`` service: publish/subscribe with type filters and bounded subscribers.

Publishing is fire-and-forget (:func:`publish` returns at once).  Each event goes to
every matching :class:`Subscription` with ``offer`` (never blocks), and the last
``history`` events are kept so a reconnecting SSE client can replay from
``Last-Event-ID``.

The subscriptions and the history live in a :class:`_Hub` (one short lock) that the
``bus`` actor owns.  A service's batch of events is fanned out by the hub in the
service's own thread (the runtime's ``send_events``, the sink this module installs), with
no hop through the bus thread: ``offer`` only appends to a bounded deque and schedules
its reader's wake-up, so a service pays microseconds per subscriber and never waits.
Subscribing, unsubscribing, replay and events published from outside a service go
through the ``bus`` actor's mailbox.
"""

from __future__ import annotations

import logging
import threading
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


class _Hub:
    """The bus's subscriptions and history, behind one lock; fans out in the caller's
    thread.  Never blocks beyond the lock, never raises."""

    def __init__(self, history: int) -> None:
        self.lock = threading.Lock()
        self.subscriptions: dict[str, Subscription] = {}
        self.history: deque[Event] = deque(maxlen=history)
        self.published = 0
        self.open = True

    def fan_out(self, events: Iterable[Event]) -> None:
        with self.lock:
            if not self.open:
                return  # the bus stopped: as if posted to a stopped actor
            subscriptions = self.subscriptions
            for event in events:
                self.published += 1
                self.history.append(event)
                for subscription in list(subscriptions.values()):
                    try:
                        if subscription.closed:
                            del subscriptions[subscription.id]
                        elif subscription.accepts(event):
                            subscription.offer(event)
                    except Exception:  # offer never raises; a broken filter harms no one
                        log.exception("bus: subscription %s failed", subscription.id)

    def add(self, subscription: Subscription) -> bool:
        with self.lock:
            if not self.open:
                return False
            self.subscriptions[subscription.id] = subscription
            return True


_hub: _Hub | None = None
"""The running bus's hub (None when no bus runs); services fan out through it."""


class BusActor(Service):
    """Fan-out of events to subscriptions; keeps recent history."""

    def __init__(self, *, history: int = 1024) -> None:
        global _hub  # noqa: PLW0603 - the one running bus
        super().__init__()
        self._hub = _hub = _Hub(history)

    @handles(Publish)
    def _publish(self, message: Publish) -> None:
        self._hub.fan_out((message.event,))

    @handles(PublishMany)
    def _publish_many(self, message: PublishMany) -> None:
        self._hub.fan_out(message.events)

    @handles(Subscribe)
    def _subscribe(self, message: Subscribe) -> None:
        self._hub.add(message.subscription)

    @handles(Unsubscribe)
    def _unsubscribe(self, message: Unsubscribe) -> None:
        with self._hub.lock:
            self._hub.subscriptions.pop(message.subscription.id, None)
        message.subscription.close()

    @handles(Since)
    def _since(self, message: Since) -> list[Event] | None:
        with self._hub.lock:
            events = list(self._hub.history)
        for index, event in enumerate(events):
            if event.id == message.event_id:
                return events[index + 1 :]
        return None

    @handles(Stats)
    def _stats(self, _: Stats) -> BusStats:
        hub = self._hub
        with hub.lock:
            return BusStats(len(hub.subscriptions), hub.published, len(hub.history))

    def teardown(self) -> None:
        global _hub  # noqa: PLW0603 - the one running bus
        hub = self._hub
        with hub.lock:
            hub.open = False
            subscriptions = list(hub.subscriptions.values())
            hub.subscriptions.clear()
        if _hub is hub:
            _hub = None
        for subscription in subscriptions:
            subscription.close()


def make_event(type_: str, properties: Mapping[str, Any], directory: str | None = None) -> Event:
    """A new event with a fresh ``evt_`` id."""
    return Event(id=new_id("evt"), type=type_, properties=properties, directory=directory)


def publish(type_: str, properties: Mapping[str, Any], directory: str | None = None) -> Event:
    """Build and publish an event; never blocks (dropped if the bus is not running).

    From a service's handler the event joins that service's outbox and leaves with its
    batch when its inbox runs dry, fanned out in that service's thread (no bus hop);
    from anywhere else it is posted to the bus.
    """
    event = make_event(type_, properties, directory)
    service = current_service()
    if service is not None and service.service_name != BUS:
        service.emit(event)
    else:
        tell(BUS, Publish(event))
    return event


def subscribe_now(subscription: Subscription) -> None:
    """Register ``subscription`` with the running bus before returning, from any thread
    (a service's ``setup`` cannot wait for the bus): every event published after this
    returns is offered to it.  Falls back to posting ``Subscribe`` if no bus runs here.
    """
    hub = _hub
    if hub is None or not hub.add(subscription):
        tell(BUS, Subscribe(subscription))


def _send_events(events: list[Event]) -> None:
    """Fan a service's batch of events out to the subscribers, in this thread (see the
    module doc); through the bus's mailbox if no bus is running here."""
    hub = _hub
    if hub is not None and hub.open:
        hub.fan_out(events)
    else:
        tell(BUS, PublishMany(tuple(events)) if len(events) > 1 else Publish(events[0]))


install_event_sink(_send_events)

"""A subscriber's bounded event buffer, readable from trio, from threads, or by an actor.

The bus (in its own thread) only ever calls
:meth:`Subscription.offer`, which never blocks and never raises: a full buffer drops its
oldest event and counts it, and the reader's next read yields one ``bus.lagged`` event
(``{"dropped": n}``) before the rest.  So a slow or broken subscriber costs the bus one
deque append and never unbounded memory.

A buffer is bounded in events (``maxlen``) and, optionally, in bytes: given ``weigh``
(an event's size, called once per event in the bus's thread) and ``max_bytes``, the
oldest events are also dropped while the bytes held pass ``max_bytes`` (the newest event
is always kept).  The bytes held are those buffered plus those the reader has taken and
not yet released (:meth:`Subscription.release`; an SSE stream's chunk being sent).

Readers: ``await sub.receive()`` (trio, cancel-safe, no thread held), ``sub.get(timeout)``
(blocking, threads), ``sub.get_nowait()`` (anyone), or a ``notify`` callback (an actor
that drains on a nudge).  ``async for event in sub`` works too.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import trio

from agentactors.actors.runtime import current_waker
from agentactors.model import Event, new_id

LAGGED = "bus.lagged"

log = logging.getLogger(__name__)


class Closed(Exception):
    """The subscription was closed (unsubscribed, or the bus stopped)."""


class Subscription:
    """A filtered, bounded, thread-safe queue of bus events."""

    def __init__(
        self,
        types: Iterable[str] | None = None,
        *,
        maxlen: int = 1024,
        directory: str | None = None,
        notify: Callable[[], None] | None = None,
        max_bytes: int | None = None,
        weigh: Callable[[Event], int] | None = None,
    ) -> None:
        self.id = new_id("sub")
        self.types = frozenset(types) if types else None
        self.directory = directory
        self.maxlen = maxlen
        self.max_bytes = max_bytes
        self._weigh = weigh
        self._buffer: deque[tuple[Event, int]] = deque()  # (event, its weight)
        self._dropped = 0
        self._bytes = 0  # buffered, plus taken and not released
        self._taken = 0  # taken and not released
        self.peak_bytes = 0
        self.dropped_total = 0
        self._closed = False
        self._lock = threading.Lock()
        self._wakers: list[Callable[[], None]] = []
        self._notify = notify
        self.delivered = 0

    def accepts(self, event: Event) -> bool:
        """Whether this subscription wants ``event`` (type filter, directory filter)."""
        if self.types is not None and event.type not in self.types:
            return False
        return self.directory is None or event.directory in (None, self.directory)

    def offer(self, event: Event) -> None:
        """Buffer ``event``, dropping the oldest while full (in events or in bytes).
        Never blocks or raises."""
        size = self._size(event)
        with self._lock:
            if self._closed:
                return
            self._buffer.append((event, size))
            self._bytes += size
            limit = self.max_bytes
            while len(self._buffer) > self.maxlen or (
                limit is not None and self._bytes > limit and len(self._buffer) > 1
            ):
                _, dropped = self._buffer.popleft()
                self._bytes -= dropped
                self._dropped += 1
                self.dropped_total += 1
            self.peak_bytes = max(self.peak_bytes, self._bytes)
            wakers, self._wakers = self._wakers, []
        self._wake(wakers)

    def _size(self, event: Event) -> int:
        if self._weigh is None:
            return 0
        try:
            return self._weigh(event)
        except Exception:  # a subscriber's scale never harms the bus
            log.exception("subscription %s: cannot weigh event %s", self.id, event.id)
            return 0

    def release(self) -> None:
        """The reader is done with the events it took (an SSE stream: sent them); their
        bytes no longer count.  Never blocks."""
        if not self._taken:  # only the reader changes it: nothing to release
            return
        with self._lock:
            self._bytes -= self._taken
            self._taken = 0

    @property
    def held_bytes(self) -> int:
        """Bytes buffered, plus taken and not released (0 without ``weigh``)."""
        return self._bytes

    def close(self) -> None:
        """End the subscription; readers get :class:`Closed` once the buffer is empty."""
        with self._lock:
            self._closed = True
            wakers, self._wakers = self._wakers, []
        self._wake(wakers)

    @property
    def closed(self) -> bool:
        return self._closed

    def _wake(self, wakers: list[Callable[[], None]]) -> None:
        for wake in wakers:
            wake()
        if self._notify is not None:
            try:
                self._notify()
            except Exception:  # noqa: BLE001 - a subscriber's nudge never harms the bus
                pass

    def get_nowait(self) -> Event | None:
        """The next event, a ``bus.lagged`` notice first if events were dropped, or None.

        Raises :class:`Closed` when closed and drained.
        """
        with self._lock:
            return self._take()

    def _take(self) -> Event | None:
        if self._dropped:
            dropped, self._dropped = self._dropped, 0
            return Event(id=new_id("evt"), type=LAGGED, properties={"dropped": dropped})
        if self._buffer:
            self.delivered += 1
            event, size = self._buffer.popleft()
            self._taken += size
            return event
        if self._closed:
            raise Closed
        return None

    def backlog(self) -> int:
        """Events buffered and not yet read."""
        return len(self._buffer)

    async def receive(self) -> Event:
        """Await the next event from trio.  Cancel-safe.  Raises :class:`Closed`."""
        while True:
            with self._lock:
                event = self._take()
                if event is not None:
                    return event
                ready = trio.Event()
                waker = current_waker()

                def wake(waker: Any = waker, ready: trio.Event = ready) -> None:
                    waker.wake(ready.set)  # batched with the publisher's other wake-ups

                self._wakers.append(wake)
            try:
                await ready.wait()
            finally:
                with self._lock:
                    if wake in self._wakers:
                        self._wakers.remove(wake)

    def get(self, timeout: float | None = None) -> Event | None:
        """Block this thread for the next event; None after ``timeout``.  Raises Closed."""
        while True:
            with self._lock:
                event = self._take()
                if event is not None:
                    return event
                ready = threading.Event()
                self._wakers.append(ready.set)
            if not ready.wait(timeout):
                with self._lock:
                    if ready.set in self._wakers:
                        self._wakers.remove(ready.set)
                return None

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        try:
            return await self.receive()
        except Closed:
            raise StopAsyncIteration from None

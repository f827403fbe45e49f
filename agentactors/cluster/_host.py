"""The shared host: one process (a Ray actor's worker) that runs the shared services.

:class:`ServicesHost` is the class of the one named, detached Ray actor: its
constructor runs :func:`start_services` (``permission``, ``store`` and ``bus``, SQLite
in the data dir it is given, on the node that hosts it), so a restart by Ray recovers
the state from that store.  Its methods run in the actor's asyncio loop: :meth:`call`
asks a local service and awaits the answer (following ``Later``) through a done-callback
that wakes the loop (``call_soon_threadsafe``), so a parked wait holds no thread.

The host subscribes to its own bus and numbers what it receives in a bounded ring;
:meth:`events_after` is the long-poll that each ``serve`` process's pump reads.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from typing import Any

import pykka

from agentactors.actors import Closed, Subscription, start_services, subscribe_now
from agentactors.actors.runtime import BridgeFuture, Later, Request, registry
from agentactors.model import Event, ServiceRestarting, new_id
from agentactors.policy import Config

from ._wire import Batch, Packed, pack_error

Answer = tuple[bool, Any]  # (True, value) or (False, a packed error)
FEED = 4096  # events the host's own subscription may hold between two drains


class ServicesHost:
    """The shared services of a cluster, in one Ray actor (see the module doc)."""

    def __init__(self, config: Config, data_dir: str) -> None:
        self._services = start_services(config, data_dir=data_dir)
        self.incarnation = new_id("inc")
        self._ring: deque[tuple[int, Event]] = deque(maxlen=max(1, config.bus_history))
        self._position = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrived: asyncio.Event | None = None
        self._draining = False
        # drained into the ring at once, once per burst: only a burst larger than this
        # between two drains loses events (the ring then holds a bus.lagged)
        self._feed = Subscription(maxlen=max(FEED, config.bus_history), notify=self._nudge)
        subscribe_now(self._feed)

    async def ready(self) -> int:
        """The host's process id, once its services run (Ray answers after
        ``__init__``)."""
        self._attach()
        return os.getpid()

    def database(self) -> str | None:
        """The SQLite file the shared services keep their state in."""
        return self._services.database

    async def call(self, name: str, message: Request[Any]) -> Answer:
        """Ask the local service ``name`` and await its answer (following ``Later``).
        Never raises: an error comes back packed."""
        self._attach()
        try:
            future = registry.ask(name, message)
            answer = await _settled(future, name)
            while isinstance(answer, Later):
                answer = await _settled(answer.future, name)
        except Exception as exc:  # noqa: BLE001 - every error is the caller's answer
            return (False, pack_error(exc))
        return (True, answer)

    def tell(self, name: str, message: Any) -> None:
        """Tell the local service ``name`` a notice; a missing one drops it."""
        try:
            registry.tell(name, message)
        except Exception:  # noqa: BLE001 - a notice to a service that is gone is dropped
            pass

    async def events_after(
        self, incarnation: str | None, position: int | None, limit: int, wait: float
    ) -> Batch:
        """The shared bus's events after ``position`` (at most ``limit``), waiting up to
        ``wait`` seconds for one if there is none yet.

        ``position`` None (a pump starting) answers at once with the current position
        and no events; a position of another ``incarnation`` gets this life's events
        from its start with ``dropped`` None.
        """
        self._attach()
        self._drain()
        if position is None:
            return Batch(self.incarnation, self._position)
        dropped: int | None = 0
        if incarnation != self.incarnation or position > self._position:
            position, dropped = 0, None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while position == self._position and self._arrived is not None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                break
        ring = self._ring
        oldest = ring[0][0] if ring else self._position + 1
        if position + 1 < oldest and dropped is not None:
            dropped = oldest - position - 1
        events = tuple(event for seq, event in ring if seq > position)[:limit]
        last = max(position, oldest - 1) + len(events)
        return Batch(self.incarnation, last, events, dropped)

    def _attach(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._arrived = asyncio.Event()

    def _nudge(self) -> None:
        """The feed has events (the bus's thread): drain them in the loop, once per
        burst."""
        loop = self._loop
        if loop is None or self._draining:
            return
        self._draining = True
        try:
            loop.call_soon_threadsafe(self._drain)
        except RuntimeError:
            pass  # the loop is closed: the host is going away

    def _drain(self) -> None:
        self._draining = False
        got = False
        while True:
            try:
                event = self._feed.get_nowait()
            except Closed:
                break
            if event is None:
                break
            self._position += 1
            self._ring.append((self._position, event))
            got = True
        if got and self._arrived is not None:
            self._arrived.set()
            self._arrived = asyncio.Event()


async def _settled(future: BridgeFuture[Any], name: str) -> Any:
    """The value of ``future`` (raised if it failed), awaited without holding a thread."""
    if not future.done():
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def wake(_: BridgeFuture[Any]) -> None:  # the completing thread
            loop.call_soon_threadsafe(_settle, done)

        future.add_done_callback(wake)
        try:
            await done
        finally:
            future.remove_done_callback(wake)
    try:
        return future.get(timeout=0)
    except pykka.ActorDeadError:
        raise ServiceRestarting(name) from None


def _settle(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


__all__ = ["Answer", "Packed", "ServicesHost"]

"""This process's share of the cluster's events: a pump from the shared bus to the local
one.

Each ``serve`` process keeps its own ``bus`` for its SSE streams and plugins.  One
daemon thread long-polls the shared host (:meth:`ServicesHost.events_after`, at most
``limit`` events, waiting up to ``wait`` seconds) and publishes each batch to the local
bus with the events' own ids, so ``Last-Event-ID`` replay works on any process.  A pump
that fell behind the host's history, or whose host restarted, publishes one
``bus.lagged`` first (``dropped``: how many it missed, ``null`` if it cannot know), as a
subscriber that falls behind is told today.
"""

from __future__ import annotations

import threading
from typing import Any

import ray
from ray.exceptions import RayError

from agentactors.actors import LAGGED
from agentactors.actors.bus import BUS, Publish, PublishMany, make_event
from agentactors.actors.runtime import tell

from ._wire import Batch

RETRY = 0.2  # seconds between attempts while the host cannot be reached


class Pump:
    """Copies the shared bus's events into this process's bus, until :meth:`stop`."""

    def __init__(self, handle: Any, *, limit: int = 512, wait: float = 1.0) -> None:
        self._handle = handle
        self._limit = limit
        self._wait = wait
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="agentactors-pump", daemon=True)
        self._incarnation: str | None = None
        self._position: int | None = None
        self.started = threading.Event()  # set once the pump knows where it starts

    def start(self, timeout: float = 30.0) -> Pump:
        """Start the thread; block until it knows its start position (events published
        after this returns reach the local bus).  Raises TimeoutError."""
        self._thread.start()
        if not self.started.wait(timeout):
            raise TimeoutError("the cluster's event pump could not reach the shared host")
        return self

    def _run(self) -> None:
        while not self._stopping.is_set():
            call = self._handle.events_after.remote(
                self._incarnation, self._position, self._limit, self._wait
            )
            try:
                batch: Batch = ray.get(call, timeout=self._wait + 30)
            except RayError:
                self._stopping.wait(RETRY)  # the host restarts, or is unreachable
                continue
            self._publish(batch)

    def _publish(self, batch: Batch) -> None:
        known = self._position is not None
        if known and (batch.dropped is None or batch.dropped > 0):
            tell(BUS, Publish(make_event(LAGGED, {"dropped": batch.dropped})))
        if batch.events:
            tell(BUS, PublishMany(batch.events))
        self._incarnation, self._position = batch.incarnation, batch.last
        self.started.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread; blocks up to ``timeout`` for its current long-poll."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

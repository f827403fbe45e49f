"""A service's mailbox: the inbox pykka's loop reads, made by the actor-type hook
``Actor._create_actor_inbox``.

pykka's ``ActorRef.tell``/``ask`` write it with ``put``; the actor's loop reads it with
``get`` and, when the actor stops, drains it with ``empty``/``get``, answering every
ask left in it.  Two additions to that contract:

* **A door.**  :meth:`Inbox.close` and ``put`` share a lock: once closed, every ``put``
  raises the closing error to the sender at once (``NotRunning``, or
  ``ServiceRestarting`` after a crash), and every message put before is still in the
  inbox, for the loop or its final drain to answer.  So a message is never left in an
  inbox nobody reads (a message that lands after pykka's drain would never be answered).
* **An idle point.**  ``get`` on an empty inbox calls ``on_idle`` before it sleeps: the
  service's batch leaves (events, store commit) and the callers it answered are woken
  when the service has nothing else to do (``Batching._idle_point``).

One reader: the actor's own thread.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Inbox:
    """A deque, a lock for the door and the sleeper flag, and a lock the reader sleeps on."""

    __slots__ = ("_items", "_lock", "_refusal", "_sleeping", "_wake", "on_idle")

    def __init__(self) -> None:
        self._items: deque[Any] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Lock()
        self._wake.acquire()  # released by the put that wakes a sleeping reader
        self._sleeping = False
        self._refusal: Callable[[], BaseException] | None = None
        self.on_idle: Callable[[], None] | None = None

    def put(self, item: Any, /) -> None:
        """Queue ``item``; raises the closing error if the door is closed.  Never blocks
        beyond the short lock."""
        with self._lock:
            if self._refusal is not None:
                raise self._refusal()
            self._items.append(item)
            wake, self._sleeping = self._sleeping, False
        if wake:
            self._wake.release()

    def get(self) -> Any:
        """The next item; runs ``on_idle`` first if there is none, then sleeps for one."""
        items = self._items
        if items:  # one reader: a non-empty deque stays non-empty until it pops
            return items.popleft()
        self._idle()
        while True:
            with self._lock:
                if items:
                    return items.popleft()
                self._sleeping = True
            self._wake.acquire()  # the put that clears _sleeping releases it once

    def _idle(self) -> None:
        on_idle = self.on_idle
        if on_idle is None:
            return
        try:
            on_idle()
        except Exception:  # the loop calls get() outside its own error handling
            log.exception("the idle point raised")

    def close(self, refusal: Callable[[], BaseException]) -> None:
        """Close the door: every later ``put`` raises ``refusal()``."""
        with self._lock:
            if self._refusal is None:
                self._refusal = refusal

    @property
    def closed(self) -> bool:
        return self._refusal is not None

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        """Messages waiting (approximate, never blocks)."""
        return len(self._items)

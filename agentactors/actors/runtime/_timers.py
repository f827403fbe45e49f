"""One timer thread for every deadline in the process (request expiry, policy limits).

A heap of ``(deadline, seq, callback)`` served by a single daemon thread, so 10,000
pending requests with timeouts cost 10,000 heap entries, not 10,000 threads.  Callbacks
run on the timer thread and must only post messages (never block); one that raises is
logged and the thread goes on.  Cancelling is O(1) (the entry is marked and skipped).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class TimerHandle:
    __slots__ = ("callback", "cancelled", "deadline")

    def __init__(self, deadline: float, callback: Callable[[], None]) -> None:
        self.deadline = deadline
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        """Never fire (if not fired yet).  Never blocks."""
        self.cancelled = True


class Timers:
    """``call_at(monotonic_deadline, callback)`` served by one lazily started thread."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, TimerHandle]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def call_at(self, deadline: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` on the timer thread at ``time.monotonic() >= deadline``."""
        handle = TimerHandle(deadline, callback)
        with self._cond:
            heapq.heappush(self._heap, (deadline, next(self._seq), handle))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="agentactors-timers", daemon=True
                )
                self._thread.start()
            if self._heap[0][2] is handle:
                self._cond.notify()
        return handle

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return self.call_at(time.monotonic() + delay, callback)

    def pending(self) -> int:
        with self._cond:
            return sum(1 for _, _, handle in self._heap if not handle.cancelled)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    while self._heap and self._heap[0][2].cancelled:
                        heapq.heappop(self._heap)
                    if not self._heap:
                        self._cond.wait()
                        continue
                    delay = self._heap[0][0] - time.monotonic()
                    if delay <= 0:
                        handle = heapq.heappop(self._heap)[2]
                        break
                    self._cond.wait(delay)
            try:
                handle.callback()
            except Exception:
                log.exception("timer callback raised")


timers = Timers()

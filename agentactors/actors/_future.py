"""The future every service call returns: pykka's threading future plus callbacks.

pykka's ``ThreadingFuture`` can only be waited on by blocking a thread.  Trio code must
never do that (stack-notes: a thread per waiter deadlocks at 40), so this subclass adds
``add_done_callback``: the trio bridge registers a callback that wakes the waiting task
through the trio token, holding no thread.  Services create it through pykka's
``Actor._create_future`` hook (pinned pykka minor; ``tests/test_runtime.py`` guards it).

Callbacks run in the thread that completes the future (an actor thread) and must not
raise or block; an exception from one is logged and swallowed so it can never kill the
actor that completed it.
"""

from __future__ import annotations

import logging
import queue
import sys
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pykka import ThreadingFuture

T = TypeVar("T")
Callback = Callable[["BridgeFuture[Any]"], None]

log = logging.getLogger(__name__)


class BridgeFuture(ThreadingFuture[T], Generic[T]):
    """A thread-safe future with done-callbacks; completed once, read many times."""

    def __init__(self) -> None:
        super().__init__()
        self._callbacks: list[Callback] = []

    def done(self) -> bool:
        """Whether a value or an exception has been set (never blocks)."""
        return self._result is not None

    def set(self, value: Any | None = None) -> None:
        """Complete with ``value``; raises ``queue.Full`` if already completed."""
        super().set(value)
        self._run_callbacks()

    def set_exception(self, exc_info: Any = None) -> None:
        """Complete with an exception (``exc_info`` triple, or the one being handled)."""
        if exc_info is None:
            exc_info = sys.exc_info()
        elif isinstance(exc_info, BaseException):
            exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
        super().set_exception(exc_info)
        self._run_callbacks()

    def try_set(self, value: Any | None = None) -> bool:
        """Complete with ``value`` unless already completed; returns whether it did."""
        try:
            self.set(value)
        except queue.Full:
            return False
        return True

    def try_set_exception(self, exc: BaseException) -> bool:
        """Complete with ``exc`` unless already completed; returns whether it did."""
        try:
            self.set_exception(exc)
        except queue.Full:
            return False
        return True

    def add_done_callback(self, callback: Callback) -> None:
        """Call ``callback(self)`` once completed (at once, here, if already done)."""
        with self._condition:
            if self._result is None:
                self._callbacks.append(callback)
                return
        _safe_call(callback, self)

    def remove_done_callback(self, callback: Callback) -> None:
        """Forget ``callback`` if it has not run yet (cancel-safe cleanup)."""
        with self._condition:
            try:
                self._callbacks.remove(callback)
            except ValueError:
                pass

    def callback_count(self) -> int:
        """How many callbacks are waiting (tests prove cancelled waiters leave none)."""
        with self._condition:
            return len(self._callbacks)

    def _run_callbacks(self) -> None:
        with self._condition:
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            _safe_call(callback, self)


def _safe_call(callback: Callback, future: BridgeFuture[Any]) -> None:
    try:
        callback(future)
    except Exception:  # a callback must never kill the completing actor
        log.exception("future callback %r raised", callback)


def completed(value: T) -> BridgeFuture[T]:
    """A future already completed with ``value``."""
    future: BridgeFuture[T] = BridgeFuture()
    future.set(value)
    return future


def failed(exc: BaseException) -> BridgeFuture[Any]:
    """A future already completed with ``exc``."""
    future: BridgeFuture[Any] = BridgeFuture()
    future.set_exception(exc)
    return future


class Later:
    """A handler's answer that is not ready yet: the caller waits on ``future`` instead.

    A service returns ``Later(future)`` when the answer depends on something that comes
    after the handler returns (a policy plugin's verdict, a store commit).  ``call`` and
    ``acall`` unwrap it, within the same timeout.
    """

    __slots__ = ("future",)

    def __init__(self, future: BridgeFuture[Any]) -> None:
        self.future = future

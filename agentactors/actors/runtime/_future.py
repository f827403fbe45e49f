"""The future every service call returns: a ``pykka.Future`` with done-callbacks.

pykka's ``ThreadingFuture`` can only be waited on by blocking a thread.  Trio code must
never do that (a thread per waiter: ``trio.to_thread`` admits 40 threads by default, so
the 41st waiter would wait for one of the first 40), so this future adds
``add_done_callback``: the trio bridge registers a callback that wakes the waiting task
through the trio token, holding no thread.  Services create it through pykka's
``Actor._create_future`` hook (``tests/test_pykka_hooks.py`` guards it).

Callbacks run in the thread that completes the future (an actor thread) and must not
raise or block; an exception from one is logged and swallowed so it can never kill the
actor that completed it.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import pykka

from ._current import current_service

T = TypeVar("T")
Callback = Callable[["BridgeFuture[Any]"], None]

log = logging.getLogger(__name__)


class BridgeFuture(pykka.Future[T], Generic[T]):
    """A thread-safe future with done-callbacks; completed once, read many times.

    A pykka ``Future`` (``get(timeout=)`` raises ``pykka.Timeout``; ``set`` twice raises
    ``queue.Full``), built on one plain lock instead of ``ThreadingFuture``'s
    ``RLock``-backed ``Condition``: most futures here are awaited by trio through a
    callback and never block a thread, so a blocking ``get`` pays for its own waiter.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._result: tuple[Any, Any] | None = None  # (value, exc_info)
        self._callbacks: list[Callback] | None = []  # None once completed
        self._hooked = False  # a get hook (pykka's map/filter/join futures) answers get

    def done(self) -> bool:
        """Whether a value or an exception has been set (never blocks)."""
        return self._result is not None

    def value_now(self) -> Any:
        """The value if completed with one, else None (never blocks or raises)."""
        result = self._result
        return None if result is None or result[1] is not None else result[0]

    def get(self, *, timeout: float | None = None) -> Any:
        """The value (or raise the exception); blocks up to ``timeout`` seconds.

        Raises:
            pykka.Timeout: not completed in time.
        """
        if self._hooked:  # pykka's map/filter/join futures, ActorRef.stop's
            return super().get(timeout=timeout)
        result = self._result
        if result is None:
            waiter = threading.Lock()
            waiter.acquire()

            def release(_: BridgeFuture[Any]) -> None:
                _wake_thread(waiter.release)

            self.add_done_callback(release)
            if not waiter.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
                self.remove_done_callback(release)
            result = self._result
            if result is None:
                raise pykka.Timeout(f"{timeout} seconds")
        value, exc_info = result
        if exc_info is not None:
            exc_type, exc_value, exc_traceback = exc_info
            if exc_value is None:
                exc_value = exc_type()
            if exc_value.__traceback__ is not exc_traceback:
                raise exc_value.with_traceback(exc_traceback)
            raise exc_value
        return value

    def _complete(self, result: tuple[Any, Any]) -> None:
        with self._lock:
            if self._result is not None or self._hooked:
                raise queue.Full
            self._result = result
            callbacks, self._callbacks = self._callbacks, None
        if callbacks:
            for callback in callbacks:
                _safe_call(callback, self)

    def set(self, value: Any | None = None) -> None:
        """Complete with ``value``; raises ``queue.Full`` if already completed."""
        self._complete((value, None))

    def set_exception(self, exc_info: Any = None) -> None:
        """Complete with an exception (``exc_info`` triple, or the one being handled)."""
        if exc_info is None:
            exc_info = sys.exc_info()
        elif isinstance(exc_info, BaseException):
            exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
        self._complete((None, exc_info))

    def set_get_hook(self, func: Any) -> None:
        with self._lock:
            if self._result is not None:
                raise queue.Full
            self._hooked = True
            super().set_get_hook(func)

    def try_set(self, value: Any | None = None) -> bool:
        """Complete with ``value`` unless already completed; returns whether it did."""
        try:
            self._complete((value, None))
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
        with self._lock:
            callbacks = self._callbacks
            if callbacks is not None:
                callbacks.append(callback)
                return
        _safe_call(callback, self)

    def remove_done_callback(self, callback: Callback) -> None:
        """Forget ``callback`` if it has not run yet (cancel-safe cleanup)."""
        with self._lock:
            callbacks = self._callbacks
            if callbacks is not None:
                try:
                    callbacks.remove(callback)
                except ValueError:
                    pass

    def callback_count(self) -> int:
        """How many callbacks are waiting (tests prove cancelled waiters leave none)."""
        with self._lock:
            return len(self._callbacks or ())


def _wake_thread(release: Callable[[], None]) -> None:
    """Wake a thread blocked in :meth:`BridgeFuture.get`; from a service's thread, once
    that service is about to wait for mail (after the trio wake-ups of the same batch,
    so the trio waiter is not beaten to the GIL by a plugin thread)."""
    service = current_service()
    if service is not None and not service.may_block:
        service.defer(release)
    else:
        release()


def _safe_call(callback: Callback, future: BridgeFuture[Any]) -> None:
    try:
        callback(future)
    except Exception:  # a callback must never kill the completing actor
        log.exception("future callback %r raised", callback)


def failed(exc: BaseException) -> BridgeFuture[Any]:
    """A future already completed with ``exc``."""
    future: BridgeFuture[Any] = BridgeFuture()
    future.set_exception(exc)
    return future

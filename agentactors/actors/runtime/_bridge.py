"""Calling services: blocking from plain threads, awaiting from trio.

``post`` and ``tell`` send and never wait (pykka's ``ActorRef.ask``/``tell``).  ``call``
blocks the calling thread (scripts, plugin threads, the REPL).  ``acall`` is the trio
face: it asks the actor (``submit``) and parks the task with ``wait_task_rescheduled``
(:func:`wait`); the future's done-callback, run in the completing thread, queues the
task's wake-up on this trio run's :class:`_Waker`, which calls the trio token's
``run_sync_soon`` once per burst.  No thread is held per waiter, the event loop never
blocks, and cancelling the task (a client went away) only removes the callback: the
message itself may still be handled (it was delivered), but nothing is left waiting.
Both raise :class:`CallTimeout` if no answer comes in time (trio waits are timed out by
one deadline heap per run, :class:`_Deadlines`); both follow a :class:`Later` answer
within the same timeout.

Every name is looked up at call time, so a restarted service is reached by its name.
"""

from __future__ import annotations

import heapq
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar, cast

import pykka
import trio

from agentactors.model import BlockingCallError, CallTimeout, NotRunning, ServiceRestarting

from ._blocking import in_blocking
from ._current import current_service, in_service_thread
from ._future import BridgeFuture
from ._registry import registry
from ._request import Later, Request

T = TypeVar("T")

DEFAULT_TIMEOUT = 5.0
"""Seconds a call waits for a service's answer (OTP's ``gen_server:call`` default)."""


def post(name: str, message: Request[Any]) -> BridgeFuture[Any]:
    """Ask the service ``name`` (pykka's ``ActorRef.ask``); never blocks.  The future
    completes with the raw answer: a ``Later`` is not followed (``call``, ``acall`` and
    ``wait`` follow it).

    Raises:
        NotRunning / ServiceRestarting: no live actor holds the name.
    """
    return registry.ask(name, message)


async def submit(name: str, message: Request[Any]) -> BridgeFuture[Any]:
    """``post`` for trio code: a cancelled task sends nothing.  Not itself a yield
    point: the caller awaits the future.

    Raises:
        NotRunning / ServiceRestarting: no live actor holds the name.
    """
    await trio.lowlevel.checkpoint_if_cancelled()
    return registry.ask(name, message)


def tell(name: str, message: Any) -> None:
    """Fire-and-forget (pykka's ``ActorRef.tell``); a missing service is ignored."""
    try:
        registry.tell(name, message)
    except NotRunning:
        pass


def call(name: str, message: Request[T], *, timeout: float | None = DEFAULT_TIMEOUT) -> T:
    """Send ``message`` to ``name`` and block this thread for the answer (a ``Later``
    answer is followed within the same ``timeout``; None: no limit).

    Raises:
        BlockingCallError: called from a service actor's thread (deadlock risk).
        NotRunning / ServiceRestarting: no live actor holds the name.
        CallTimeout: no answer within ``timeout`` seconds.
        ServiceError subclasses: the service's own refusal.
    """
    if in_service_thread():
        raise BlockingCallError(
            f"a service actor may not block on {name!r}; post() and react to the future"
        )
    answer = wait_sync(post(name, message), name, type(message).__name__, timeout)
    return cast("T", answer)  # the message's type names its answer's


def wait_sync(future: BridgeFuture[Any], name: str, what: str, timeout: float | None) -> Any:
    """Block this thread until ``future`` completes, following a ``Later`` answer within
    the same ``timeout``.  Raises :class:`CallTimeout`."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            answer = future.get(timeout=remaining)
        except pykka.Timeout:
            raise CallTimeout(name, what, timeout or 0.0) from None
        except pykka.ActorDeadError:
            raise ServiceRestarting(name) from None
        if not isinstance(answer, Later):
            return answer
        future = answer.future


async def acall(name: str, message: Request[T], *, timeout: float | None = DEFAULT_TIMEOUT) -> T:
    """Send ``message`` to ``name`` and await the answer without blocking trio (a
    ``Later`` answer is followed within the same ``timeout``; None: no limit).

    Cancel-safe: a cancelled caller leaves no callback behind.  Under ``blocking`` (a
    plain thread running an ``api`` operation) it is ``call``: it blocks the thread.

    Raises:
        NotRunning / ServiceRestarting: no live actor holds the name.
        CallTimeout: no answer within ``timeout`` seconds.
        ServiceError subclasses: the service's own refusal.
    """
    if in_blocking():
        return call(name, message, timeout=timeout)
    future = await submit(name, message)
    answer = await wait(future, name, type(message).__name__, timeout)
    return cast("T", answer)  # the message's type names its answer's


class _Waker:
    """Wakes trio tasks from other threads, one ``run_sync_soon`` per batch.

    ``run_sync_soon`` writes to trio's wake-up socket on every call, a system call per
    completion.  Here completions append to a deque and only the first of a batch
    schedules a drain, which resumes every ready task.
    """

    def __init__(self, token: trio.lowlevel.TrioToken) -> None:
        self._token = token
        self._ready: deque[Callable[[], None]] = deque()
        self._lock = threading.Lock()
        self._scheduled = False

    def wake(self, resume: Callable[[], None]) -> None:
        """Run ``resume`` soon in the trio thread.  Any thread; never blocks or raises.

        From a service's thread the wake-up itself waits until that service is about
        to wait for mail (:meth:`Service.defer`): its batch leaves first, and the trio
        thread, once woken, does not fight it for the GIL.
        """
        self._ready.append(resume)
        with self._lock:
            if self._scheduled:
                return
            self._scheduled = True
        service = current_service()
        if service is not None and not service.may_block:
            service.defer(self._kick)
        else:
            self._kick()

    def _kick(self) -> None:
        try:
            self._token.run_sync_soon(self._drain)
        except trio.RunFinishedError:
            pass  # the trio run is over; nobody is waiting any more

    def _drain(self) -> None:
        with self._lock:
            self._scheduled = False
        ready = self._ready
        while ready:
            ready.popleft()()


class _Parked:
    """One trio task parked on a future (no closures, no cancel scope per wait).

    A future completed with a ``Later`` whose own future is still pending is followed
    in the completing thread: the task stays parked, now on that future, and is woken
    once, with the answer itself (an ``ask_and_wait`` costs one wake-up, not two).
    """

    __slots__ = ("expired", "future", "task", "waiting", "waker")

    def __init__(self, future: BridgeFuture[Any], waker: _Waker) -> None:
        self.future = future
        self.task = trio.lowlevel.current_task()
        self.waker = waker
        self.waiting = True
        self.expired = False

    def wake(self, future: BridgeFuture[Any]) -> None:  # done-callback: completing thread
        answer = future.value_now()
        if isinstance(answer, Later) and not answer.future.done():
            self.future = answer.future
            answer.future.add_done_callback(self.wake)
            if not self.waiting:  # a cancel or expiry raced this: it may have missed it
                answer.future.remove_done_callback(self.wake)
            return
        self.waker.wake(self.resume)

    def resume(self) -> None:  # trio thread; a wake-up racing a cancel or expiry is ignored
        if self.waiting:
            self.waiting = False
            trio.lowlevel.reschedule(self.task)

    def abort(self, _: Any) -> trio.lowlevel.Abort:  # trio thread: the task is cancelled
        self.waiting = False
        self.future.remove_done_callback(self.wake)
        return trio.lowlevel.Abort.SUCCEEDED

    def expire(self) -> None:  # trio thread: its deadline passed
        if self.waiting:
            self.waiting = False
            self.expired = True
            self.future.remove_done_callback(self.wake)
            trio.lowlevel.reschedule(self.task)


class _Deadlines:
    """Times out parked waits: one heap and one system task per trio run.

    A ``CancelScope`` per call walks the task's cancel-status tree on entry and on exit.
    Here a wait costs a heap push; a finished wait stays in the heap until its deadline
    (compacted when dead entries dominate).  The reaper wakes at most every
    ``GRAIN`` seconds, so a timeout may fire up to ``GRAIN`` late.
    """

    GRAIN = 0.01

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Parked]] = []
        self._seq = 0
        self.live = 0
        self._scope: trio.CancelScope | None = None
        trio.lowlevel.spawn_system_task(self._reap, name="agentactors-deadlines")

    def add(self, deadline: float, parked: _Parked) -> None:
        heap = self._heap
        self._seq += 1
        heapq.heappush(heap, (deadline, self._seq, parked))
        self.live += 1
        if len(heap) > 4 * self.live + 4096:  # mostly finished waits: drop them
            heap[:] = [entry for entry in heap if entry[2].waiting]
            heapq.heapify(heap)
        scope = self._scope
        if scope is not None and deadline + self.GRAIN < scope.deadline:
            scope.deadline = deadline + self.GRAIN

    async def _reap(self) -> None:
        heap = self._heap
        while True:
            now = trio.current_time()
            while heap and heap[0][0] <= now:
                heapq.heappop(heap)[2].expire()
            with trio.CancelScope(deadline=heap[0][0] + self.GRAIN if heap else math.inf) as scope:
                self._scope = scope
                await trio.sleep_forever()
            self._scope = None


_waker: trio.lowlevel.RunVar[_Waker] = trio.lowlevel.RunVar("agentactors_waker")
_deadlines: trio.lowlevel.RunVar[_Deadlines] = trio.lowlevel.RunVar("agentactors_deadlines")


def current_waker() -> _Waker:
    """This trio run's waker (made on first use).  Call from the trio thread."""
    try:
        return _waker.get()
    except LookupError:
        waker = _Waker(trio.lowlevel.current_trio_token())
        _waker.set(waker)
        return waker


def _current_deadlines() -> _Deadlines | None:
    """This trio run's deadline heap (made on first use); None if the run is already
    shutting down and can take no system task (the caller uses a cancel scope)."""
    try:
        return _deadlines.get()
    except LookupError:
        pass
    try:
        deadlines = _Deadlines()
    except RuntimeError:
        return None
    _deadlines.set(deadlines)
    return deadlines


async def wait(future: BridgeFuture[Any], name: str, what: str, timeout: float | None) -> Any:
    """Await ``future`` from trio, holding no thread, following a ``Later`` answer
    within the same ``timeout``.  Cancel-safe.

    The future's done-callback (run in the completing actor's thread) schedules the
    task's wake-up in the trio thread; a cancelled or timed-out wait removes the
    callback, and a wake-up that races the cancellation is ignored.

    Raises:
        CallTimeout: not completed within ``timeout`` seconds (checked by the run's
            deadline reaper, at most ``_Deadlines.GRAIN`` late).
    """
    deadline = None if timeout is None else trio.current_time() + timeout
    while True:
        if not future.done():
            remaining = None if deadline is None else max(0.0, deadline - trio.current_time())
            future = await _park(future, remaining)
            if not future.done():
                raise CallTimeout(name, what, timeout or 0.0)
        try:
            answer = future.get(timeout=0)
        except pykka.ActorDeadError:
            raise ServiceRestarting(name) from None
        if not isinstance(answer, Later):
            return answer
        future = answer.future


async def _park(future: BridgeFuture[Any], timeout: float | None) -> BridgeFuture[Any]:
    """Sleep until ``future`` (or a ``Later`` it was completed with: see :class:`_Parked`)
    completes, or ``timeout`` passes; returns the future last waited on (not done if the
    time ran out)."""
    parked = _Parked(future, current_waker())
    future.add_done_callback(parked.wake)
    deadlines = None if timeout is None else _current_deadlines()
    if timeout is None:
        await trio.lowlevel.wait_task_rescheduled(parked.abort)
    elif deadlines is None:
        with trio.CancelScope(deadline=trio.current_time() + timeout):
            await trio.lowlevel.wait_task_rescheduled(parked.abort)
    else:
        deadlines.add(trio.current_time() + timeout, parked)
        try:
            await trio.lowlevel.wait_task_rescheduled(parked.abort)
        finally:
            deadlines.live -= 1
    return parked.future

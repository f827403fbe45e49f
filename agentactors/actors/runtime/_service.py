"""The base class of every named service actor.

A :class:`Service` is a pykka ``ThreadingActor``, used as pykka means: it is started
with ``Actor.start`` (by the registry, under its name), messages reach it only through
``ActorRef.tell``/``ask`` and its inbox, and pykka's own loop runs every one of them in
the actor's thread, one at a time, in order.  The runtime uses the two hooks pykka
gives the implementers of actor types — ``_create_actor_inbox`` (:class:`Inbox`: a door
and an idle point) and ``_create_future`` (:class:`BridgeFuture`: done-callbacks for
trio) — and pykka's ``on_start``/``on_stop``/``on_receive``.  It adds:

* **Typed dispatch.**  Messages are frozen attrs instances; methods marked
  ``@handles(MessageType)`` answer them.  A :class:`Request` is answered (asked); any
  other message is a notice (told).  An unknown request is an ``InvalidRequest``.
* **Crash = stop + restart.**  A handler that raises a ``ServiceError`` has answered
  (the error goes to the caller).  Any other exception is a crash: the caller gets
  ``ServiceCrashed``, the inbox closes, the messages still queued are refused with
  ``ServiceRestarting``, the incarnation stops, and the registry's supervisor starts a
  fresh one under the same name (OTP's "let it crash").  A notice never raises out of
  ``on_receive`` (pykka would stop the actor for good): its errors are logged.
* **No blocking on peers.**  The actor's thread is marked a service thread; the
  runtime's blocking ``call`` refuses to run there (``BlockingCallError``).
* **Batches** (``_batch.py``): what handlers change leaves at the idle point.

Subclasses override :meth:`setup` (runs in the actor's thread before any message: the
recovery hook a restarted incarnation uses to reload its state) and :meth:`teardown`
(runs when the actor stops, crash or not).  A subclass may also override pykka's
``on_start``/``on_stop``, as pykka documents them (plugins do): the runtime frames
them, so the runtime's start (thread mark, ``setup``) comes first, an exception from
the subclass's ``on_start`` is a crash like any other, and the runtime's stop (batch,
``teardown``) comes after the subclass's ``on_stop``.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

import attrs
import pykka

from agentactors.model import (
    InvalidRequest,
    NotRunning,
    ServiceCrashed,
    ServiceError,
    ServiceRestarting,
)

from ._batch import Batching
from ._current import thread_role
from ._future import BridgeFuture
from ._inbox import Inbox
from ._request import Later, Request

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
CrashHook = Callable[["Service", BaseException], None]


def handles(message_type: type) -> Callable[[F], F]:
    """Mark a method as the handler of ``message_type`` (one handler per type)."""

    def mark(method: F) -> F:
        method.__handles__ = message_type  # type: ignore[attr-defined] # a marker read by __init_subclass__
        return method

    return mark


@attrs.frozen
class Reload:
    """Drop every in-memory state and run ``setup()`` again (from the store, after a
    failed commit).  Waiters on pending requests get ``ServiceRestarting`` and re-attach."""


@attrs.frozen
class Crash(Request[None]):
    """Make the receiving service crash as a failing handler would (chaos tests, REPL)."""

    reason: str = "crash requested"


class InjectedCrash(RuntimeError):
    """The exception a :class:`Crash` message raises inside the handler."""


@attrs.define
class _Launch:
    name: str
    crash_hook: CrashHook | None
    actor: Service | None = None


_launching = threading.local()


@contextmanager
def launching(name: str, crash_hook: CrashHook | None) -> Iterator[_Launch]:
    """Name the service constructed in this thread meanwhile (the registry starts each
    incarnation inside this, so it knows its name before its thread runs)."""
    launch = _Launch(name, crash_hook)
    _launching.current = launch
    try:
        yield launch
    finally:
        _launching.current = None


class Service(Batching, pykka.ThreadingActor):
    """A named, supervised actor.  See the module docstring for the contract."""

    use_daemon_thread = True  # the runtime stops every actor at shutdown; never hang exit
    may_block: ClassVar[bool] = False
    """Whether handlers may make blocking calls to other services.  False for the core
    services (no cycles can form); plugins set it: services never wait on a plugin."""
    _handlers: ClassVar[dict[type, Callable[[Any, Any], Any]]] = {}

    actor_inbox: Inbox

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[type, Callable[[Any, Any], Any]] = {}
        for klass in reversed(cls.__mro__):  # subclasses override their bases
            for attr in vars(klass).values():
                message_type = getattr(attr, "__handles__", None)
                if message_type is not None:
                    handlers[message_type] = attr
        cls._handlers = handlers
        own = vars(cls)
        if "on_start" in own:
            cls.on_start = _framed_start(own["on_start"])  # type: ignore[method-assign,assignment] # the runtime frames pykka's hook
        if "on_stop" in own:
            cls.on_stop = _framed_stop(own["on_stop"])  # type: ignore[method-assign,assignment] # the runtime frames pykka's hook

    def __init__(self) -> None:
        super().__init__()
        launch: _Launch | None = getattr(_launching, "current", None)
        self.service_name = launch.name if launch is not None else "?"
        self._crash_hook = launch.crash_hook if launch is not None else None
        if launch is not None:
            launch.actor = self
        self.messages_handled = 0
        self.started_at = time.time()
        self.crash: BaseException | None = None
        self.reloading = False  # teardown() runs for a Reload, not a stop
        self._started = False
        self._finished = False
        self.actor_inbox.on_idle = self._idle_point

    # --- pykka's hooks for implementers of actor types --------------------------------

    @staticmethod
    def _create_actor_inbox() -> Inbox:
        return Inbox()

    @staticmethod
    def _create_future() -> BridgeFuture[Any]:
        return BridgeFuture()

    # --- life cycle (pykka's on_start/on_stop) ----------------------------------------

    def on_start(self) -> None:
        """The runtime's start (see the module docstring)."""
        self._runtime_start()

    def on_stop(self) -> None:
        """The runtime's stop (see the module docstring)."""
        self._runtime_stop()

    def _runtime_start(self) -> bool:
        """Mark the thread and run ``setup()``; False if it crashed (once per actor)."""
        if not self._started:
            self._started = True
            thread_role.service = self
            try:
                self.setup()
            except Exception as exc:
                log.exception("%s failed to start", self.service_name)
                self._crash(exc)
        return self.crash is None

    def _runtime_stop(self) -> None:
        """Close the inbox, send the batch, run ``teardown()``, wake who it released."""
        if self._finished:
            return
        self._finished = True
        self.actor_inbox.close(self._refusal)
        # What this incarnation changed is stored before a successor can load (crash) or
        # the store stops (it stops after every durable service).
        self._send_batch()
        try:
            self.teardown()
        except Exception:
            log.exception("%s failed in teardown", self.service_name)
        self._run_deferred()

    def defer(self, kick: Callable[[], None]) -> None:
        """Hold ``kick`` until this batch has left; once stopped, there is no later
        batch: run it now (the answers pykka gives after the stop, the crash's)."""
        if self._finished:
            kick()
        else:
            super().defer(kick)

    def _refusal(self) -> NotRunning:
        if self.crash is not None:
            return ServiceRestarting(self.service_name)
        return NotRunning(self.service_name, "stopped")

    def setup(self) -> None:
        """Prepare (or recover) state; runs in the actor thread before any message."""

    def teardown(self) -> None:
        """Release what ``setup`` took; runs in the actor thread when it stops."""

    # --- messaging --------------------------------------------------------------------

    def tell_self(self, message: Any) -> None:
        """Queue a notice to this actor; never raises (a closed actor drops it)."""
        try:
            self.actor_ref.tell(message)
        except (NotRunning, pykka.ActorDeadError):
            pass

    def mailbox_depth(self) -> int:
        """Messages waiting in the inbox (approximate, never blocks)."""
        return self.actor_inbox.qsize()

    def on_receive(self, message: Any) -> Any:
        """Dispatch ``message`` to its handler (pykka's loop calls this)."""
        request = isinstance(message, Request)
        handler = self._handlers.get(type(message)) if self.crash is None else None
        if handler is None:
            return self._unhandled(message, request)
        self.messages_handled += 1
        staged = self._staged
        try:
            result = handler(self, message)
        except Exception as exc:  # noqa: BLE001 - an answer or a crash: _failed tells which
            return self._failed(message, request, exc, wrote=self._staged != staged)
        else:
            if self.journal is None or isinstance(result, Later):
                return result
            return self.answer_later("write" if self._staged != staged else "read", result)
        finally:
            if self.crash is None:
                self._count_handled()

    def _unhandled(self, message: Any, request: bool) -> None:
        """No handler: queued behind a crash (refused), or an unknown message."""
        if self.crash is not None:
            error: NotRunning | InvalidRequest = ServiceRestarting(self.service_name)
        else:
            error = InvalidRequest(
                f"{self.service_name} does not handle {type(message).__name__} messages"
            )
            if not request:
                log.warning("%s", error)
        if request:
            raise error

    def _failed(
        self, message: Any, request: bool, exc: Exception, *, wrote: bool
    ) -> Later[Any] | None:
        """A handler raised: a ``ServiceError`` is its answer, anything else a crash.
        Raises what the asker gets; a notice's errors are logged, never raised."""
        if not isinstance(exc, ServiceError):
            log.exception("%s crashed handling %s", self.service_name, type(message).__name__)
            self._crash(exc)
            if request:
                raise ServiceCrashed(self.service_name, exc) from exc
            return None
        if self.journal is not None:  # never ahead of the store
            return self.answer_later("write" if wrote else "read", error=exc)
        if request:
            raise exc
        log.warning("%s refused a %s: %s", self.service_name, type(message).__name__, exc)
        return None

    def _crash(self, exc: BaseException) -> None:
        """Stop this incarnation now and hand the name to the supervisor.

        pykka's stop is queued first, then the inbox closes: what was queued before is
        refused by :meth:`on_receive` (``ServiceRestarting``), nothing lands after.
        """
        self.crash = exc
        self.stop()
        self.on_stop()  # the subclass's on_stop, then the runtime's stop; pykka's is a no-op
        if self._crash_hook is not None:
            self._crash_hook(self, exc)

    @handles(Crash)
    def _crash_on_request(self, message: Crash) -> None:
        raise InjectedCrash(message.reason)

    @handles(Reload)
    def _reload(self, _: Reload) -> None:
        self.flush_now()  # what this epoch staged goes with this epoch
        self.reloading = True
        try:
            self.teardown()
        finally:
            self.reloading = False
        self.setup()


def _framed_start(hook: Callable[[Any], None]) -> Callable[[Any], None]:
    """A subclass's ``on_start``, after the runtime's start; raising is a crash."""

    @functools.wraps(hook)
    def on_start(self: Service) -> None:
        if not self._runtime_start():
            return
        try:
            hook(self)
        except Exception as exc:
            log.exception("%s failed to start", self.service_name)
            self._crash(exc)

    return on_start


def _framed_stop(hook: Callable[[Any], None]) -> Callable[[Any], None]:
    """A subclass's ``on_stop``, then the runtime's stop (once, crash or not)."""

    @functools.wraps(hook)
    def on_stop(self: Service) -> None:
        if self._finished:
            return
        try:
            hook(self)
        except Exception:
            log.exception("%s failed in on_stop", self.service_name)
        self._runtime_stop()

    return on_stop

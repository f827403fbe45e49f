"""The base class of every named service actor.

A :class:`Service` is a pykka ``ThreadingActor`` with four additions:

* **Typed dispatch.** Messages are frozen attrs instances; methods marked
  ``@handles(MessageType)`` answer them.  An unknown message type is an
  :class:`~agentactors.actors.InvalidRequest`, not a crash.
* **Crash = stop + restart.** A handler that raises a :class:`ServiceError` has answered
  (the error goes to the caller).  Any other exception is a crash: the caller gets
  :class:`ServiceCrashed`, the actor stops at once, the messages still queued get
  :class:`ServiceRestarting`, and the registry's supervisor starts a fresh incarnation
  under the same name (OTP's "let it crash").
* **A gated mailbox.** :meth:`post` and the teardown share a lock, so a message is either
  handled, or failed by the teardown, or refused because the actor is closed — never put
  into an inbox nobody will read (the pykka trap in stack-notes).
* **No blocking on peers.** ``on_start`` marks the thread as a service thread; the
  runtime's blocking ``call`` refuses to run there (:class:`BlockingCallError`).

Subclasses override :meth:`setup` (runs in the actor's thread before any message; this is
the recovery hook a restarted incarnation uses to reload its state) and
:meth:`teardown` (runs when the actor stops, crash or not).  pykka's ``on_start`` and
``on_stop`` stay free for subclasses (plugins use them as their hooks).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import attrs
import pykka
from pykka._envelope import Envelope  # pinned pykka minor: see pyproject

from ._errors import (
    InvalidRequest,
    NotRunning,
    ServiceCrashed,
    ServiceError,
    ServiceRestarting,
)
from ._future import BridgeFuture

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
CrashHook = Callable[["Service", BaseException], None]

_thread_role = threading.local()


def in_service_thread() -> bool:
    """Whether the calling thread belongs to a service that must never block."""
    service = getattr(_thread_role, "service", None)
    return service is not None and not service.may_block


def current_service() -> Service | None:
    """The service whose thread this is, or None."""
    return getattr(_thread_role, "service", None)


def handles(message_type: type) -> Callable[[F], F]:
    """Mark a method as the handler of ``message_type`` (one handler per type)."""

    def mark(method: F) -> F:
        method.__handles__ = message_type  # type: ignore[attr-defined] # a marker read by __init_subclass__
        return method

    return mark


@attrs.frozen
class Crash:
    """Make the receiving service crash as a failing handler would (chaos tests, REPL)."""

    reason: str = "crash requested"


class InjectedCrash(RuntimeError):
    """The exception a :class:`Crash` message raises inside the handler."""


class Service(pykka.ThreadingActor):
    """A named, supervised actor.  See the module docstring for the contract."""

    use_daemon_thread = True  # the runtime stops every actor at shutdown; never hang exit
    may_block: ClassVar[bool] = False
    """Whether handlers may make blocking calls to other services.  False for the core
    services (no cycles can form); plugins set it: services never wait on a plugin."""
    _handlers: ClassVar[dict[type, Callable[[Any, Any], Any]]] = {}

    # Set by the registry before the actor's thread starts.
    service_name: str = "?"
    _crash_hook: CrashHook | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[type, Callable[[Any, Any], Any]] = {}
        for klass in reversed(cls.__mro__):  # subclasses override their bases
            for attr in vars(klass).values():
                message_type = getattr(attr, "__handles__", None)
                if message_type is not None:
                    handlers[message_type] = attr
        cls._handlers = handlers

    def __init__(self) -> None:
        super().__init__()
        self._gate = threading.Lock()
        self._closed = False
        self.messages_handled = 0
        self.started_at = time.time()
        self.crash: BaseException | None = None
        self._outbox: list[Any] = []  # events published by handlers, sent in batches

    OUTBOX_LIMIT = 64
    """Events a handler run may hold back before they are sent anyway."""

    def emit(self, event: Any) -> None:
        """Queue ``event`` for the bus; sent when the inbox runs dry (or the batch fills).

        Batching costs no order: events leave in the order emitted, after the state
        change that made them, and before this actor is idle.
        """
        self._outbox.append(event)

    def _flush(self) -> None:
        if self._outbox and (
            len(self._outbox) >= self.OUTBOX_LIMIT or self.actor_inbox.empty() or self.crash
        ):
            events, self._outbox = self._outbox, []
            from ._bus import send_events  # noqa: PLC0415 - _bus imports this module

            send_events(events)

    # --- pykka hooks (pinned minor) -------------------------------------------------

    @staticmethod
    def _create_future() -> BridgeFuture[Any]:
        return BridgeFuture()

    def _actor_loop_teardown(self) -> None:
        with self._gate:
            self._closed = True
        if self.crash is not None:
            self._fail_queued(ServiceRestarting(self.service_name))
        super()._actor_loop_teardown()

    def _fail_queued(self, exc: BaseException) -> None:
        while not self.actor_inbox.empty():
            envelope = self.actor_inbox.get()
            if envelope.reply_to is not None:
                envelope.reply_to.set_exception((type(exc), exc, None))

    # --- life cycle -------------------------------------------------------------------

    def _actor_loop_setup(self) -> None:  # pykka's hook around on_start (pinned minor)
        _thread_role.service = self
        try:
            self.setup()
            self.on_start()
        except Exception as exc:
            log.exception("%s failed to start", self.service_name)
            self._crash(exc)

    def _stop(self) -> None:  # pykka's stop: unregister, mark stopped, on_stop()
        super()._stop()
        try:
            self.teardown()
        except Exception:
            log.exception("%s failed in teardown", self.service_name)

    def setup(self) -> None:
        """Prepare (or recover) state; runs in the actor thread before any message."""

    def teardown(self) -> None:
        """Release what ``setup`` took; runs in the actor thread when it stops."""

    # --- messaging --------------------------------------------------------------------

    def post(self, message: Any) -> BridgeFuture[Any]:
        """Queue ``message``; the returned future completes with the handler's answer.

        Never blocks.  If the actor is closed, the future fails at once with
        :class:`NotRunning` (or :class:`ServiceRestarting` after a crash).
        """
        future: BridgeFuture[Any] = BridgeFuture()
        with self._gate:
            if not self._closed and not self.actor_stopped.is_set():
                self.actor_inbox.put(Envelope(message, reply_to=future))
                return future
        if self.crash is not None:
            future.set_exception(ServiceRestarting(self.service_name))
        else:
            future.set_exception(NotRunning(self.service_name, "stopped"))
        return future

    @handles(Crash)
    def _crash_on_request(self, message: Crash) -> None:
        raise InjectedCrash(message.reason)

    def mailbox_depth(self) -> int:
        """Messages waiting in the inbox (approximate, never blocks)."""
        inbox: queue.Queue[Any] = self.actor_inbox  # type: ignore[assignment] # ThreadingActor inboxes are queue.Queue
        return inbox.qsize()

    def on_receive(self, message: Any) -> Any:
        handler = self._handlers.get(type(message))
        if handler is None:
            raise InvalidRequest(
                f"{self.service_name} does not handle {type(message).__name__} messages"
            )
        self.messages_handled += 1
        try:
            return handler(self, message)
        except ServiceError:
            raise
        except Exception as exc:
            log.exception("%s crashed handling %s", self.service_name, type(message).__name__)
            self._crash(exc)
            raise ServiceCrashed(self.service_name, exc) from exc
        finally:
            if self._outbox:
                self._flush()

    def _crash(self, exc: BaseException) -> None:
        """Stop this incarnation now and hand the name to the supervisor."""
        self.crash = exc
        self._stop()  # unregisters, sets actor_stopped, runs on_stop and teardown()
        if self._crash_hook is not None:
            self._crash_hook(self, exc)

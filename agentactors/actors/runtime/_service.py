"""The base class of every named service actor.

A :class:`Service` is a pykka ``ThreadingActor`` with these additions:

* **Typed dispatch.** Messages are frozen attrs instances; methods marked
  ``@handles(MessageType)`` answer them.  An unknown message type is an
  :class:`~agentactors.model.InvalidRequest`, not a crash.
* **Crash = stop + restart.** A handler that raises a :class:`ServiceError` has answered
  (the error goes to the caller).  Any other exception is a crash: the caller gets
  :class:`ServiceCrashed`, the actor stops at once, the messages still queued get
  :class:`ServiceRestarting`, and the registry's supervisor starts a fresh incarnation
  under the same name (OTP's "let it crash").
* **A gated mailbox.** :meth:`post` and the teardown share a lock, so a message is either
  handled, or failed by the teardown, or refused because the actor is closed — never put
  into an inbox nobody will read (pykka's ``tell``/``ask`` look whether the actor is
  alive, then put: a message sent while it stops can land after its last drain).
* **No blocking on peers.** Before ``setup`` the thread is marked as this service's
  (``_current.thread_role``); the runtime's blocking ``call`` refuses to run there
  (:class:`BlockingCallError`) unless the service sets ``may_block`` (plugins).
* **Its own inbox and loop.** :class:`Inbox` (a deque, one reader) replaces pykka's
  ``queue.Queue`` and ``_actor_loop_running`` is replaced by a leaner loop with an *idle
  point*: when the inbox runs dry, the batch leaves (below) and the wake-ups it deferred
  (:meth:`defer`) run.
* **Inline runs.** A service that sets ``inline`` may have a message run in its caller's
  thread while it is idle (:meth:`run_inline`), as if in its own.

Subclasses override :meth:`setup` (runs in the actor's thread before any message; this is
the recovery hook a restarted incarnation uses to reload its state) and
:meth:`teardown` (runs when the actor stops, crash or not).  pykka's ``on_start`` and
``on_stop`` stay free for subclasses (plugins use them as their hooks).

**Batches.** What a handler changes leaves in one batch when the inbox runs dry (or the
batch fills): the events it published (:meth:`emit`), and — for a service whose state
is durable (``self.journal`` set, see ``store/_journal.py``) — the state writes it staged
(:meth:`stage`), the futures to complete once those writes are stored
(:meth:`settle`), and the answers of the messages it handled.  A durable service's
batch goes to the ``store`` as one ``Commit``: the store writes it in one transaction,
then completes the futures, then forwards the events to the bus.  So no answer, no
released waiter and no event ever reveals a change that is not stored.  Without a
journal, futures complete at once and events go straight to the bus (the in-memory
speed).  ``Reload`` makes a service drop its state and run :meth:`setup` again (the
store sends it after a failed commit: see ``design/state.md``).
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar, Literal, Protocol, TypeVar

import attrs
import pykka
from pykka._envelope import Envelope  # pinned pykka minor: see pyproject

from agentactors.model import (
    InvalidRequest,
    NotRunning,
    ServiceCrashed,
    ServiceError,
    ServiceRestarting,
)

from ._current import thread_role
from ._events import send_events
from ._future import BridgeFuture
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


Refusal = Literal["write", "read", "unavailable", "restart"]
"""What a future gets if its batch is not stored.

* ``write`` (the answer of a change): ``StoreUnavailable`` if the commit failed — the
  change was not made, retry (503) — or ``ServiceRestarting`` if the batch was fenced
  because its service is reloading (retry).
* ``read`` (the answer of a handler that changed nothing): ``ServiceRestarting`` — ask
  again (a waiter re-attaches by id).
* ``unavailable``: ``StoreUnavailable`` (a request whose creation was not stored).
* ``restart``: ``ServiceRestarting`` (a pending request's waiter: the request is still as
  it was stored; re-attach by id).
"""


class Completion:
    """A future to complete once the batch it belongs to is stored."""

    __slots__ = ("error", "future", "refused", "value")

    def __init__(
        self,
        future: BridgeFuture[Any],
        value: Any = None,
        error: BaseException | None = None,
        refused: Refusal = "write",
        *,
        guard: bool = False,
    ) -> None:
        self.future = future
        self.value: Any = _GUARD if guard else value
        self.error = error
        self.refused: Refusal = refused

    def complete(self) -> None:
        """The batch is stored: complete the future (a guard leaves it alone)."""
        if self.error is not None:
            self.future.try_set_exception(self.error)
        elif self.value is not _GUARD:
            self.future.try_set(self.value)

    def refuse(self, error: BaseException) -> None:
        """The batch was not stored: fail the future (see :func:`_journal.refuse`)."""
        self.future.try_set_exception(error)


_GUARD: Any = object()


class Committer(Protocol):
    """Where a durable service's batches go (the journal, which posts them to the store)."""

    def commit(
        self,
        service: Service,
        writes: list[Any],
        events: list[Any],
        completions: list[Completion],
    ) -> None: ...


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


class Inbox:
    """A service's mailbox: pykka's ``queue.Queue`` inbox, lighter (one reader).

    A deque and a lock the reader sleeps on.  ``put`` appends without a lock while the
    reader is busy (``queue.Queue.put`` took two, and a poster could queue behind the
    reader holding one while it waited for the GIL); it takes the small lock only to wake
    a sleeping reader.  Only the actor's own thread reads.
    """

    __slots__ = ("_items", "_lock", "_nudged", "_sleeping", "_wake")

    def __init__(self) -> None:
        self._items: deque[Any] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Lock()
        self._wake.acquire()  # released by the put that wakes a sleeping reader
        self._sleeping = False
        self._nudged = False

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self._items.append(item)
        # The reader sets _sleeping before its last look at _items, so either it sees
        # this item or this sees it sleeping (the GIL orders both).
        if self._sleeping:
            with self._lock:  # of racing puts, the one that clears the flag wakes it
                wake, self._sleeping = self._sleeping, False
            if wake:
                self._wake.release()

    def take(self) -> Any:
        """The next item, or None if there is none now (never blocks)."""
        try:
            return self._items.popleft()
        except IndexError:
            return None

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """The next item; blocks (up to ``timeout``) while empty.  Raises ``queue.Empty``."""
        items = self._items
        while True:
            if items:
                return items.popleft()
            if not block:
                raise queue.Empty
            self._sleeping = True
            if items or not self._wake.acquire(timeout=-1 if timeout is None else timeout):
                with self._lock:  # not sleeping after all (mail came, or time is up)
                    claimed = not self._sleeping
                    self._sleeping = False
                if claimed:  # a put is releasing the lock for us: take it back
                    self._wake.acquire()
                elif not items:
                    raise queue.Empty

    def wait(self) -> None:
        """Sleep until mail comes or :meth:`nudge` is called; takes nothing.

        The reader waits for mail without holding it, so a message is never out of the
        inbox while the actor's execution lock is free (see :meth:`Service.run_inline`).
        May return early (a spurious wake-up): the caller looks again.
        """
        if self._items or self._nudged:
            return
        self._sleeping = True
        if not (self._items or self._nudged):
            self._wake.acquire()
            return  # the put (or nudge) that woke us cleared _sleeping
        with self._lock:  # mail came before we slept
            claimed = not self._sleeping
            self._sleeping = False
        if claimed:  # a put is releasing the lock for us: take it back
            self._wake.acquire()

    def nudge(self) -> None:
        """Wake the reader without mail, now or at its next :meth:`wait` (for good: it
        looks at its stop flag and leaves)."""
        self._nudged = True  # before the look at _sleeping: as put's append
        if self._sleeping:
            with self._lock:
                wake, self._sleeping = self._sleeping, False
            if wake:
                self._wake.release()

    def get_nowait(self) -> Any:
        return self.get(block=False)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)


class Service(pykka.ThreadingActor):
    """A named, supervised actor.  See the module docstring for what it adds to pykka's."""

    use_daemon_thread = True  # the runtime stops every actor at shutdown; never hang exit
    may_block: ClassVar[bool] = False
    """Whether handlers may make blocking calls to other services.  False for the core
    services (no cycles can form); plugins set it: services never wait on a plugin."""
    inline: ClassVar[bool] = False
    """Whether a caller may run a message in its own thread while this actor is idle
    (:meth:`run_inline`: the trio thread's ``acall``, a blocking ``call``).  Only for
    services whose handlers are short and never block or wait: the caller (the trio
    loop) is held for the handler's run and the batch that follows."""
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
        self._writes: list[Any] = []  # state writes staged by handlers (durable services)
        self._completions: list[Completion] = []  # futures to complete once stored
        self.journal: Committer | None = None  # set by a durable state in setup()
        self.epoch = 0  # the journal epoch this incarnation's state was loaded in
        self.reloading = False  # teardown() runs for a Reload, not a stop
        self._staged = 0  # writes staged so far (tells a change's answer from a read's)
        self._kicks: list[Callable[[], None]] = []  # wake-ups held until idle (defer)
        self._handled_since_flush = 0
        # Held by whoever runs this actor's handlers: the actor's own thread at all times
        # except while it waits for mail (from birth: setup() runs first), or a caller
        # running one message inline.  Never released once the loop has ended.
        self._exec = threading.Lock()
        self._exec.acquire()

    OUTBOX_LIMIT = 64
    """Events, writes and completions a handler run may hold back before they are sent."""

    def emit(self, event: Any) -> None:
        """Queue ``event`` for the bus; sent when the inbox runs dry (or the batch fills).

        Batching costs no order: events leave in the order emitted, after the state
        change that made them, and before this actor is idle.
        """
        self._outbox.append(event)

    def stage(self, write: Any) -> None:
        """Queue a state write for this batch's commit (the journal calls this)."""
        self._writes.append(write)
        self._staged += 1

    def settle(
        self,
        future: BridgeFuture[Any],
        value: Any = None,
        *,
        error: BaseException | None = None,
        refused: Refusal = "write",
    ) -> None:
        """Complete ``future`` with ``value`` (or ``error``) — at once without a journal,
        else once this batch is stored (and with ``refused``'s error if it is not)."""
        if self.journal is None:
            if error is not None:
                future.try_set_exception(error)
            else:
                future.try_set(value)
        else:
            self._completions.append(Completion(future, value, error, refused))

    def guard(self, future: BridgeFuture[Any]) -> None:
        """Fail ``future`` with :class:`StoreUnavailable` if this batch is not stored
        (a request whose creation is in the batch); nothing else."""
        if self.journal is not None:
            self._completions.append(Completion(future, refused="unavailable", guard=True))

    def _answer_later(self, refused: Refusal, value: Any = None, error: Any = None) -> Later[Any]:
        future: BridgeFuture[Any] = BridgeFuture()
        self._completions.append(Completion(future, value, error, refused))
        return Later(future)

    def flush_now(self) -> None:
        """Send this batch now (before a message that must follow it to the store)."""
        self._flush()

    def defer(self, kick: Callable[[], None]) -> None:
        """Run ``kick`` (another thread's wake-up) when this actor is about to wait for
        mail (or its batch fills), after this batch has left: so the woken thread does not
        compete for the GIL with the rest of this batch, and a burst costs one wake-up."""
        self._kicks.append(kick)

    def _kick(self) -> None:
        kicks, self._kicks = self._kicks, []
        for kick in kicks:
            try:
                kick()
            except Exception:
                log.exception("%s: a deferred wake-up raised", self.service_name)

    def _idle(self) -> None:
        """The inbox ran dry: send this batch, then wake whoever it released."""
        self._handled_since_flush = 0
        if self._outbox or self._writes or self._completions:
            self._flush()
        if self._kicks:
            self._kick()

    def _flush(self) -> None:
        if not (self._outbox or self._writes or self._completions):
            return
        events, self._outbox = self._outbox, []
        if self.journal is not None:
            writes, self._writes = self._writes, []
            completions, self._completions = self._completions, []
            self.journal.commit(self, writes, events, completions)
        elif events:
            send_events(events)

    # --- pykka hooks (pinned minor) -------------------------------------------------

    @staticmethod
    def _create_future() -> BridgeFuture[Any]:
        return BridgeFuture()

    @staticmethod
    def _create_actor_inbox() -> Inbox:  # queue.Queue's duck (pinned pykka minor)
        return Inbox()

    def _actor_loop_running(self) -> None:  # pykka's loop (pinned minor), leaner
        """Take mail until stopped; send the batch and wake its waiters when idle."""
        inbox: Inbox = self.actor_inbox  # type: ignore[assignment] # ours, see above
        stopped = self.actor_stopped
        handlers = self._handlers
        run = self._exec  # held by this thread (since __init__) except while it waits
        while not stopped.is_set():
            envelope = inbox.take()
            if envelope is None:
                self._idle()
                run.release()  # idle, no mail held: a caller may run one inline now
                inbox.wait()
                run.acquire()  # after any inline run (short: see ``inline``)
                continue
            message = envelope.message
            reply_to = envelope.reply_to
            try:
                if type(message) in handlers:
                    response = self.on_receive(message)
                else:  # pykka's own messages (stop), or unknown types
                    response = self._handle_receive(message)
            except Exception:  # noqa: BLE001 - pykka's loop: the caller gets it
                if reply_to is not None:
                    reply_to.set_exception()
                else:  # as pykka does
                    self._handle_failure(*sys.exc_info())
                    try:
                        self.on_failure(*sys.exc_info())
                    except Exception:  # noqa: BLE001
                        self._handle_failure(*sys.exc_info())
            except BaseException:
                log.debug("%s: stopping every actor", self.service_name, exc_info=True)
                self._stop()
                pykka.ActorRegistry.stop_all()
            else:
                if reply_to is not None:
                    reply_to.set(response)

    def _actor_loop_teardown(self) -> None:
        with self._gate:
            self._closed = True
        if self.crash is not None:
            self._fail_queued(ServiceRestarting(self.service_name))
        super()._actor_loop_teardown()
        self._kick()

    def _fail_queued(self, exc: BaseException) -> None:
        while not self.actor_inbox.empty():
            envelope = self.actor_inbox.get()
            if envelope.reply_to is not None:
                envelope.reply_to.set_exception((type(exc), exc, None))

    # --- life cycle -------------------------------------------------------------------

    def _actor_loop_setup(self) -> None:  # pykka's hook around on_start (pinned minor)
        thread_role.service = self
        try:
            self.setup()
            self.on_start()
        except Exception as exc:
            log.exception("%s failed to start", self.service_name)
            self._crash(exc)

    def _stop(self) -> None:  # pykka's stop: unregister, mark stopped, on_stop()
        super()._stop()
        # What this incarnation changed is stored before a successor can load (crash) or
        # the store stops (it stops after every durable service).
        self._flush()
        try:
            self.teardown()
        except Exception:
            log.exception("%s failed in teardown", self.service_name)
        self._kick()

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

    def run_inline(self, message: Any) -> BridgeFuture[Any] | None:
        """Handle ``message`` in the calling thread if this actor is idle, else None.

        Idle means: the execution lock is free (the actor's thread is waiting for mail
        and holds none: it takes mail only under the lock) and the inbox is empty (looked
        at under the lock, so no queued message is overtaken).  The run is the actor's
        own: ``current_service()`` is this service, so publishing, deferred wake-ups and
        the ban on blocking calls apply; the idle-point work (the batch: events, store
        commit, wake-ups) follows before the lock is released; a crash stops this
        incarnation and hands the name to the supervisor exactly as in the actor's
        thread, and the actor's thread is then woken to tear down.  The returned future
        is completed (the answer, or the error the caller would have got).
        """
        if type(message) not in self._handlers:
            return None  # pykka's own messages and unknown types: the actor's thread
        inbox: Inbox = self.actor_inbox  # type: ignore[assignment] # see _create_actor_inbox
        run = self._exec
        if inbox._items or not run.acquire(blocking=False):
            return None
        try:
            if inbox._items or self._closed or self.actor_stopped.is_set():
                return None
            future: BridgeFuture[Any] = BridgeFuture()
            role = thread_role
            caller = getattr(role, "service", None)
            role.service = self
            try:
                try:
                    response = self.on_receive(message)
                except Exception:  # noqa: BLE001 - as the actor loop: the caller gets it
                    future.set_exception()
                except BaseException as exc:  # e.g. KeyboardInterrupt in the caller
                    if not self.actor_stopped.is_set():  # contained: restart, as a crash
                        log.exception("%s: interrupted inline", self.service_name)
                        self._crash(exc)
                    raise
                else:
                    future.set(response)
                if not self.actor_stopped.is_set():
                    self._idle()
            finally:
                role.service = caller
            return future
        finally:
            run.release()
            if self.actor_stopped.is_set():  # stopped inline (a crash): the actor's
                inbox.nudge()  # thread wakes, sees it, tears down and keeps the lock

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

    def mailbox_depth(self) -> int:
        """Messages waiting in the inbox (approximate, never blocks)."""
        inbox: Inbox = self.actor_inbox  # type: ignore[assignment] # see _create_actor_inbox
        return inbox.qsize()

    def on_receive(self, message: Any) -> Any:
        handler = self._handlers.get(type(message))
        if handler is None:
            raise InvalidRequest(
                f"{self.service_name} does not handle {type(message).__name__} messages"
            )
        self.messages_handled += 1
        staged = self._staged
        try:
            result = handler(self, message)
        except ServiceError as exc:
            if self.journal is None:
                raise
            kind: Refusal = "write" if self._staged != staged else "read"
            return self._answer_later(kind, error=exc)  # never ahead of the store
        except Exception as exc:
            log.exception("%s crashed handling %s", self.service_name, type(message).__name__)
            self._crash(exc)
            raise ServiceCrashed(self.service_name, exc) from exc
        else:
            if self.journal is None or isinstance(result, Later):
                return result
            return self._answer_later("write" if self._staged != staged else "read", result)
        finally:
            self._handled_since_flush += 1
            if self._handled_since_flush >= self.OUTBOX_LIMIT or self.crash:
                self._idle()  # a long burst: send what is held, wake who is released
            elif len(self._outbox) + len(self._writes) + len(self._completions) >= (
                self.OUTBOX_LIMIT
            ):
                self._flush()

    def _crash(self, exc: BaseException) -> None:
        """Stop this incarnation now and hand the name to the supervisor."""
        self.crash = exc
        self._stop()  # unregisters, sets actor_stopped, runs on_stop and teardown()
        if self._crash_hook is not None:
            self._crash_hook(self, exc)

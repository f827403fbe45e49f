"""A service's batch: what its handlers change leaves together, at its idle point.

What a handler changes leaves in one batch when the service's inbox runs dry (its idle
point, ``Inbox.get``) or the batch fills: the events it published (:meth:`emit`), and —
for a service whose state is durable (``journal`` set, see ``store/_journal.py``) — the
state writes it staged (:meth:`stage`), the futures to complete once those writes are
stored (:meth:`complete_once_stored`), and the answers of the messages it handled.  A durable
service's batch goes to the ``store`` as one ``Commit``: the store writes it in one
transaction, then completes the futures, then forwards the events to the bus.  So no
answer, no released waiter and no event ever reveals a change that is not stored.
Without a journal, futures complete at once and events go straight to the bus.

Wake-ups of other threads (the trio tasks and blocked threads a handler's answers
release) are held until the batch has left (:meth:`defer`): a woken caller sees the
events of its change already fanned out, and a burst costs one wake-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal, Protocol

from ._events import send_events
from ._future import BridgeFuture
from ._request import Later

log = logging.getLogger(__name__)

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
        writer: str,
        epoch: int,
        writes: list[Any],
        events: list[Any],
        completions: list[Completion],
    ) -> None: ...


class Batching:
    """The batch of one service (a base of :class:`Service`); used from its own thread."""

    OUTBOX_LIMIT = 64
    """Events, writes and completions, or messages handled, before a batch leaves anyway."""

    service_name: str

    def __init__(self) -> None:
        super().__init__()
        self._outbox: list[Any] = []  # events published by handlers
        self._writes: list[Any] = []  # state writes staged by handlers (durable services)
        self._completions: list[Completion] = []  # futures to complete once stored
        self._kicks: list[Callable[[], None]] = []  # wake-ups held until the batch left
        self._handled_since_flush = 0
        self._staged = 0  # writes staged so far (tells a change's answer from a read's)
        self.journal: Committer | None = None  # set by a durable state in setup()
        self.epoch = 0  # the journal epoch this incarnation's state was loaded in

    def emit(self, event: Any) -> None:
        """Queue ``event`` for the bus; it leaves with this batch.

        Batching costs no order: events leave in the order emitted, after the state
        change that made them, and before this service is idle.
        """
        self._outbox.append(event)

    def stage(self, write: Any) -> None:
        """Queue a state write for this batch's commit (the journal calls this)."""
        self._writes.append(write)
        self._staged += 1

    def complete_once_stored(
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
        """Fail ``future`` with ``StoreUnavailable`` if this batch is not stored (a
        request whose creation is in the batch); nothing else."""
        if self.journal is not None:
            self._completions.append(Completion(future, refused="unavailable", guard=True))

    def answer_later(self, refused: Refusal, value: Any = None, error: Any = None) -> Later[Any]:
        """An answer (``value`` or ``error``) given once this batch is stored."""
        future: BridgeFuture[Any] = BridgeFuture()
        self._completions.append(Completion(future, value, error, refused))
        return Later(future)

    def flush_now(self) -> None:
        """Send this batch now (before a message that must follow it to the store)."""
        self._send_batch()

    def defer(self, kick: Callable[[], None]) -> None:
        """Run ``kick`` (another thread's wake-up) once this batch has left: so the woken
        thread does not compete for the GIL with the rest of the batch, and a burst
        costs one wake-up."""
        self._kicks.append(kick)

    def _count_handled(self) -> None:
        """One message handled: a batch that filled (or a long burst) leaves now."""
        self._handled_since_flush += 1
        if self._handled_since_flush >= self.OUTBOX_LIMIT:
            self._idle_point()  # a long burst: send what is held, wake who is released
        elif len(self._outbox) + len(self._writes) + len(self._completions) >= (self.OUTBOX_LIMIT):
            self._send_batch()

    def _idle_point(self) -> None:
        """The inbox ran dry: send this batch, then wake whoever it released."""
        self._handled_since_flush = 0
        self._send_batch()
        if self._kicks:
            self._run_deferred()

    def _run_deferred(self) -> None:
        kicks, self._kicks = self._kicks, []
        for kick in kicks:
            try:
                kick()
            except Exception:
                log.exception("%s: a deferred wake-up raised", self.service_name)

    def _send_batch(self) -> None:
        if not (self._outbox or self._writes or self._completions):
            return
        events, self._outbox = self._outbox, []
        if self.journal is not None:
            writes, self._writes = self._writes, []
            completions, self._completions = self._completions, []
            self.journal.commit(self.service_name, self.epoch, writes, events, completions)
        elif events:
            send_events(events)

"""The durable state the services write through: a mirror in memory, batches to SQLite.

A :class:`Journal` has :class:`~agentactors.actors.store.MemoryState`'s methods, so
``permission`` uses it as it uses the memory state.  A write changes the
in-memory *mirror* at once (the writing service reads its own writes) and is *staged* in
the writing service's current batch; the batch leaves as one :class:`Commit` message to
the ``store`` when the service's inbox runs dry (``Batching._send_batch``).  The store writes
it in one transaction, commits, completes the batch's futures (answers, released
askers) and only then forwards its events to the bus.  Nobody ever waits on the store:
services post, the store completes futures.

One writer: the journal belongs to one service (``permission``, which owns sessions,
requests and approvals); :meth:`Journal.attach` refuses a second.  The mirror is only
ever changed in that service's thread: by its writes, and by its reload.

Failure (design/state.md): if a commit fails, the mirror holds changes that are not
stored.  The store then bumps the journal's *epoch*, hands it the committed state read
back from the database and sends ``Reload`` to the writer.  Until the writer has
reloaded, its writes no longer touch the mirror (it is *fenced*: its epoch is old) and
its batches are refused — their futures fail with ``StoreUnavailable`` (503: not
made, retry) or ``ServiceRestarting`` (a pending request's waiter: re-attach by id).
Reloading, the writer attaches again, which swaps the committed state in as the mirror
before it reads it.  So every acknowledged change is stored, and a service never
reloads unstored state.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs
import pykka

from agentactors.actors.runtime import (
    BridgeFuture,
    Completion,
    Later,
    Request,
    Service,
    current_service,
    failed,
)
from agentactors.model import (
    Event,
    NotRunning,
    Page,
    PermissionRequest,
    SavedApproval,
    ServiceCrashed,
    ServiceRestarting,
    Session,
)

from ._errors import StoreUnavailable
from ._history import History, check_history
from ._state import MemoryState

if TYPE_CHECKING:
    from agentactors.actors.runtime import Registry

STORE = "store"


@attrs.frozen
class Commit(Request[None]):
    """One batch of one service: stored in one transaction, then completed, then the
    events go to the bus.  ``epoch`` fences batches made before a reload."""

    writer: str
    epoch: int
    writes: tuple[tuple[str, Any], ...]
    events: tuple[Event, ...]
    completions: tuple[Completion, ...] = attrs.field(eq=False)


@attrs.frozen
class QueryHistory(Request[Page[PermissionRequest]]):
    """To the store: the audit log from the database (see ``History``)."""

    query: History


def refuse(commit: Commit, reason: str, *, stale: bool = False) -> None:
    """Fail every future of a batch that was not stored, each with its own error:
    ``ServiceRestarting`` (retry, re-attach) for waiters, reads, and changes fenced by a
    reload (``stale``); ``StoreUnavailable`` (503, not made) for the rest."""
    for completion in commit.completions:
        kind = completion.refused
        if kind in ("restart", "read") or (kind == "write" and stale):
            error: BaseException = ServiceRestarting(
                commit.writer, f"reloading its stored state ({reason})"
            )
        else:
            error = StoreUnavailable(reason)
        completion.refuse(error)


def _refuse_if_undelivered(commit: Commit) -> Any:
    """A done-callback on the post of a commit: if the store never took it (closed, or
    crashed with it queued), its futures fail instead of hanging."""

    def on_done(future: BridgeFuture[Any]) -> None:
        try:
            future.get(timeout=0)
        except NotRunning as exc:
            refuse(commit, f"the store is not running ({exc.reason})")
        except ServiceCrashed as exc:
            refuse(commit, str(exc))
        except pykka.ActorDeadError:  # queued behind the store's stop: never handled
            refuse(commit, "the store stopped")
        except Exception:  # noqa: BLE001 - the store answered; it completed the batch
            pass

    return on_done


class Journal:
    """Durable state: see the module doc.  Thread-safe; never blocks beyond a lock."""

    durable = True

    def __init__(self, mirror: MemoryState, *, registry: Registry, store: str = STORE) -> None:
        self._mirror = mirror
        self._registry = registry
        self.store = store
        self.epoch = 0
        self.writer: str | None = None  # the name of the one service that writes here
        self._committed: MemoryState | None = None  # the mirror to take at the next attach
        self.store_starts = 0  # incarnations of the store so far (a restart recovers)
        self._lock = threading.Lock()

    # --- the store's side ---------------------------------------------------------------

    def reset(self, committed: MemoryState | None) -> int:
        """Fence the writer (a new epoch); if given, ``committed`` becomes the mirror when
        the writer next attaches (its reload).  Returns the new epoch.  The store calls
        this after a failed commit."""
        with self._lock:
            self.epoch += 1
            if committed is not None:
                self._committed = committed
            return self.epoch

    # --- the services' side -------------------------------------------------------------

    def attach(self, service: Service) -> None:
        """``service`` (re)loads its state from here now: the committed state of the last
        reset becomes the mirror, and its batches go to the store, tagged with the
        current epoch.

        Raises:
            RuntimeError: another service is this journal's writer.
        """
        with self._lock:
            if self.writer not in (None, service.service_name):
                raise RuntimeError(f"the journal's writer is {self.writer!r}, not {service!r}")
            if self._committed is not None:
                self._mirror.replace_with(self._committed)
                self._committed = None
            service.journal = self
            service.epoch = self.epoch
            self.writer = service.service_name

    def commit(
        self,
        writer: str,
        epoch: int,
        writes: list[Any],
        events: list[Any],
        completions: list[Completion],
    ) -> None:
        """Send a service's batch to the store (its idle point calls this)."""
        commit = Commit(writer, epoch, tuple(writes), tuple(events), tuple(completions))
        try:
            delivery = self._registry.ask(self.store, commit)
        except NotRunning as exc:  # the store is restarting (it will recover) or gone
            refuse(commit, f"the store is not running ({exc.reason})")
        else:
            delivery.add_done_callback(_refuse_if_undelivered(commit))

    def _write(self, kind: str, value: Any, apply: Any) -> None:
        service = current_service()
        if service is None:
            raise RuntimeError("journal writes come from a service's thread")
        with self._lock:
            if service.epoch == self.epoch:  # a fenced writer no longer touches the mirror
                apply(value)
        service.stage((kind, value))

    # sessions
    def put_session(self, session: Session) -> None:
        self._write("session", session, self._mirror.put_session)

    def delete_sessions(self, ids: Iterable[str]) -> None:
        self._write("delete_sessions", tuple(ids), self._mirror.delete_sessions)

    def sessions(self) -> list[Session]:
        return self._mirror.sessions()

    # requests
    def put_request(self, request: PermissionRequest) -> None:
        self._write("request", request, self._mirror.put_request)

    def request(self, request_id: str) -> PermissionRequest | None:
        return self._mirror.request(request_id)

    def pending_requests(self) -> list[PermissionRequest]:
        return self._mirror.pending_requests()

    def history(self) -> list[PermissionRequest]:
        return self._mirror.history()

    def query_history(self, query: History) -> Later[Page[PermissionRequest]]:
        """Answered by the store from the database, after this service's batch."""
        check_history(query)
        service = current_service()
        if service is not None:
            service.flush_now()  # the query follows this service's writes to the store
        try:
            future = self._registry.ask(self.store, QueryHistory(query))
        except NotRunning as exc:
            future = failed(StoreUnavailable(f"the store is not running ({exc.reason})"))
        return Later(future)

    # approvals
    def put_approval(self, approval: SavedApproval) -> None:
        self._write("approval", approval, self._mirror.put_approval)

    def delete_approval(self, approval_id: str) -> None:
        self._write("delete_approval", approval_id, self._mirror.delete_approval)

    def approvals(self) -> list[SavedApproval]:
        return self._mirror.approvals()

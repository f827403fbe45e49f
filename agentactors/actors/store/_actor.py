"""The ``store`` service: the one owner of the SQLite connection.

It receives :class:`~agentactors.actors.store._journal.Commit` batches from the durable
services and, per batch, in order: writes the state changes and the batch's events in
the open transaction; commits (several batches queued back to back share one
transaction: a *group commit*, never held while the inbox is empty); completes the
batch's futures (the answers, the askers' decisions); forwards the events to the bus.
So a request is stored before ``permission.asked`` is published, a reply before its
answer, and an asker is released only after its decision is stored.

It also answers the audit log's queries (``QueryHistory``) from the stored state, after
the batches queued before them.  It never waits on another actor.  The connection is
opened in :meth:`StoreActor.setup`, in the store's thread; ``start_services`` has already
migrated the schema and loaded the committed state into the journal's mirror.  A
restarted store (after a crash) recovers as after a failed commit.

A failed commit (disk full, I/O error, a closed connection, a read-only file): the
transaction is rolled back, the connection reopened, the committed state read back and
handed to the journal under a new epoch, and the writing service told to ``Reload``;
then the batch's futures fail (``StoreUnavailable``, 503; a pending request's waiters
get ``ServiceRestarting`` and re-attach).  If reopening fails too the store is *broken*:
it refuses every batch (the services' answers are 503s, never unstored state) and tries
again at most once a second.  See design/state.md.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

import attrs

from agentactors.actors.runtime import (
    Later,
    Reload,
    Request,
    Service,
    failed,
    handles,
    send_events,
    tell,
)
from agentactors.model import Page, PermissionRequest

from ._datadir import DataDir
from ._errors import StoreUnavailable
from ._journal import STORE, Commit, Journal, QueryHistory, refuse
from ._rows import append_events, apply_writes, load_state, prune_events, query_history
from ._schema import open_database

log = logging.getLogger(__name__)

__all__ = ["STORE", "BreakStore", "StoreActor", "StoreInfo", "StoreStatus"]


@attrs.frozen
class BreakStore(Request[None]):
    """A test and REPL hook that makes commits fail, as a broken disk would.

    ``"close"`` closes the connection (the next commit fails, then the store reopens);
    ``"readonly"`` makes every write fail until ``BreakStore(None)``; ``None`` heals.
    """

    how: str | None


@attrs.frozen
class StoreStatus(Request["StoreInfo"]):
    """Where the state is and how the store is doing (answered after every batch queued
    before it: a restarted store has recovered by then)."""


@attrs.frozen
class StoreInfo:
    database: str
    epoch: int  # bumped by every reload of the stored state
    commits: int  # transactions committed by this incarnation
    broken: str | None  # why every change is refused, if it is


class StoreActor(Service):
    """Owns the SQLite connection; stores batches, then completes and publishes them."""

    GROUP_LIMIT = 64
    """Batches that may share one transaction."""
    RETRY_EVERY = 1.0
    """Seconds between attempts to reopen a broken database."""

    def __init__(
        self,
        *,
        journal: Journal,
        data_dir: DataDir,
        synchronous: str = "normal",
        event_retention: int = 10_000,
        keep_decided: int = 100_000,
    ) -> None:
        super().__init__()
        self._journal = journal
        self._data_dir = data_dir
        self._synchronous = synchronous
        self._event_retention = event_retention
        self._keep_decided = keep_decided
        self._conn: sqlite3.Connection | None = None
        self._group: list[Commit] = []
        self._broken: str | None = None
        self._last_try = 0.0
        self._readonly = False
        self.commits = 0  # transactions committed (for tests and the REPL)

    # --- life cycle -------------------------------------------------------------------

    def setup(self) -> None:
        self._journal.store_starts += 1
        if self._journal.store_starts == 1:
            self._conn = self._open()  # the runtime loaded the mirror from this database
        else:
            self._recover("the store restarted")

    def teardown(self) -> None:
        if self.crash is None:
            self._commit_group(recover=False)  # a clean stop stores what it holds
        else:
            self._rollback()
            group, self._group = self._group, []
            for commit in group:
                refuse(commit, f"the store crashed: {self.crash}")
        self._close()

    def _open(self) -> sqlite3.Connection:
        conn, _ = open_database(self._data_dir, synchronous=self._synchronous)
        if self._readonly:
            conn.execute("PRAGMA query_only = ON")
        return conn

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    # --- commits ----------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        if not isinstance(message, Commit):
            self._commit_group()  # everything else sees (and answers after) stored state
        return super().on_receive(message)

    @handles(Commit)
    def _commit(self, commit: Commit) -> None:
        if self._broken is not None and not self._retry():
            refuse(commit, self._broken)
            return
        if commit.epoch != self._journal.epoch:
            refuse(commit, "it was made before the state was reloaded", stale=True)
            return
        try:
            if commit.writes or commit.events:
                conn = self._connection()
                if not conn.in_transaction:
                    conn.execute("BEGIN")
                apply_writes(conn, commit.writes)
                if commit.events:
                    append_events(conn, commit.events)
        except Exception as exc:  # noqa: BLE001 - sqlite3, OS, or an unstorable value: the batch fails
            self._fail(exc, [*self._group, commit])
            return
        self._group.append(commit)
        if len(self._group) >= self.GROUP_LIMIT or self.actor_inbox.empty():
            self._commit_group()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.ProgrammingError("the database connection is closed")
        return self._conn

    def _commit_group(self, *, recover: bool = True) -> None:
        if not self._group:
            return
        group, self._group = self._group, []
        conn = self._conn
        try:
            if conn is not None and conn.in_transaction:
                if any(commit.events for commit in group):
                    prune_events(conn, self._event_retention)
                conn.execute("COMMIT")
                self.commits += 1
        except Exception as exc:  # noqa: BLE001 - the commit itself failed: nothing is stored
            if recover:
                self._fail(exc, group)
            else:
                self._rollback()
                for commit in group:
                    refuse(commit, f"{type(exc).__name__}: {exc}")
            return
        for commit in group:
            for completion in commit.completions:
                completion.complete()
        events = [event for commit in group for event in commit.events]
        if events:
            send_events(events)
        self._run_deferred()  # the waiters released by this group: now, not after the whole burst

    def _rollback(self) -> None:
        if self._conn is not None:
            try:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def _fail(self, exc: BaseException, commits: list[Commit]) -> None:
        """Nothing of ``commits`` is stored: reload, then refuse them (in that order, so
        a waiter re-attaching finds the reloaded service)."""
        self._group = []
        reason = f"{type(exc).__name__}: {exc}"
        log.error("store: a commit failed (%s); reloading the stored state", reason)
        self._rollback()
        self._recover(reason)
        for commit in commits:
            refuse(commit, reason)

    def _recover(self, reason: str) -> bool:
        """Reopen, hand the committed state to the journal (a new epoch), and tell the
        writer to reload.  On failure: broken (the writer fenced)."""
        self._last_try = time.monotonic()
        self._close()
        try:
            self._conn = self._open()
            committed = load_state(self._conn, keep_decided=self._keep_decided)
        except Exception as exc:  # noqa: BLE001 - any failure leaves the store broken, not crashed
            self._close()
            self._broken = f"{reason}; reopening the database failed: {exc}"
            log.error("store: %s", self._broken)  # noqa: TRY400 - the reason is in the text
            self._journal.reset(None)
            return False
        self._journal.reset(committed)
        self._broken = None
        if self._journal.writer is not None:
            tell(self._journal.writer, Reload())
        return True

    def _retry(self) -> bool:
        if time.monotonic() - self._last_try < self.RETRY_EVERY:
            return False
        return self._recover(self._broken or "broken")

    # --- queries and hooks --------------------------------------------------------------

    @handles(QueryHistory)
    def _query_history(self, message: QueryHistory) -> Page[PermissionRequest] | Later[Any]:
        try:
            return query_history(self._connection(), message.query)
        except sqlite3.Error as exc:  # a fault, not a crash of the store: answered as such
            return Later(failed(StoreUnavailable(f"{type(exc).__name__}: {exc}")))

    @handles(StoreStatus)
    def _status(self, _: StoreStatus) -> StoreInfo:
        return StoreInfo(
            str(self._data_dir.database), self._journal.epoch, self.commits, self._broken
        )

    @handles(BreakStore)
    def _break(self, message: BreakStore) -> None:
        if message.how == "close":
            self._close()
        elif message.how == "readonly":
            self._readonly = True
            self._connection().execute("PRAGMA query_only = ON")
        else:
            self._readonly = False
            if self._conn is not None:
                self._conn.execute("PRAGMA query_only = OFF")

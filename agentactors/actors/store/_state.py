"""Where services keep what must survive a crash of their actor.

:class:`MemoryState` is a plain thread-safe object (not an actor) owned by the runtime,
so a restarted incarnation of ``permission`` (its one writer) reloads from it in
``setup()``.  It never blocks beyond a short lock.  The durable
:class:`~agentactors.actors.store.Journal` has the same methods (it keeps a
``MemoryState`` as its mirror and sends every write to the SQLite ``store``); both
satisfy :class:`State`, which is all the services see.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from agentactors.model import (
    Page,
    PermissionRequest,
    SavedApproval,
    Session,
)

from ._history import check_history, select_history

if TYPE_CHECKING:
    from agentactors.actors.runtime import Later, Service

    from ._history import History


class State(Protocol):
    """What ``permission`` reads and writes (see the module doc)."""

    durable: bool

    def attach(self, service: Service) -> None: ...
    def put_session(self, session: Session) -> None: ...
    def delete_sessions(self, ids: Iterable[str]) -> None: ...
    def sessions(self) -> list[Session]: ...
    def put_request(self, request: PermissionRequest) -> None: ...
    def request(self, request_id: str) -> PermissionRequest | None: ...
    def pending_requests(self) -> list[PermissionRequest]: ...
    def history(self) -> list[PermissionRequest]: ...
    def query_history(self, query: History) -> Page[PermissionRequest] | Later[Any]: ...
    def put_approval(self, approval: SavedApproval) -> None: ...
    def delete_approval(self, approval_id: str) -> None: ...
    def approvals(self) -> list[SavedApproval]: ...


KEEP_DECIDED_BYTES = 64 * 1024 * 1024
"""Decided requests kept in memory, at most, by their estimated size."""


def _weight(request: PermissionRequest) -> int:
    """About how many bytes a request holds: its texts and its metadata as JSON."""
    texts = sum(len(text) for text in (*request.patterns, *request.always))
    try:
        metadata = len(json.dumps(request.metadata, default=repr))
    except (TypeError, ValueError, RecursionError):
        metadata = 0
    return 512 + texts + metadata


class MemoryState:
    """Sessions, requests (pending and final) and saved approvals, in memory."""

    durable = False

    def __init__(
        self, *, keep_decided: int = 100_000, keep_decided_bytes: int = KEEP_DECIDED_BYTES
    ) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._requests: dict[str, PermissionRequest] = {}
        self._pending: set[str] = set()
        self._approvals: dict[str, SavedApproval] = {}
        self._keep_decided = keep_decided
        self._keep_decided_bytes = keep_decided_bytes
        self._weights: dict[str, int] = {}  # decided requests' estimated sizes
        self._decided_bytes = 0

    def attach(self, service: Service) -> None:
        """A service (re)loads from this state: nothing to do in memory."""

    def replace_with(self, other: MemoryState) -> None:
        """Take ``other``'s contents (the journal's writer reloading committed state)."""
        with self._lock:
            self._sessions = other._sessions
            self._requests = other._requests
            self._pending = other._pending
            self._approvals = other._approvals
            self._weights = other._weights
            self._decided_bytes = other._decided_bytes

    # sessions
    def put_session(self, session: Session) -> None:
        with self._lock:
            self._sessions[session.id] = session

    def delete_sessions(self, ids: Iterable[str]) -> None:
        with self._lock:
            for session_id in ids:
                self._sessions.pop(session_id, None)

    def sessions(self) -> list[Session]:
        with self._lock:
            return list(self._sessions.values())

    # requests
    def put_request(self, request: PermissionRequest) -> None:
        with self._lock:
            self._requests[request.id] = request
            if request.pending:
                self._pending.add(request.id)
            else:
                self._pending.discard(request.id)
                weight = _weight(request)
                self._decided_bytes += weight - self._weights.get(request.id, 0)
                self._weights[request.id] = weight
                self._trim()

    def _trim(self) -> None:
        """Forget the oldest decided requests past ``keep_decided`` of them or past
        ``keep_decided_bytes`` of them (a durable state still has them: history)."""
        excess = len(self._requests) - len(self._pending) - self._keep_decided
        if excess <= 0 and self._decided_bytes <= self._keep_decided_bytes:
            return
        for request_id in list(self._requests):  # insertion order: oldest first
            if request_id in self._pending:
                continue
            del self._requests[request_id]
            self._decided_bytes -= self._weights.pop(request_id, 0)
            excess -= 1
            if excess <= 0 and self._decided_bytes <= self._keep_decided_bytes:
                return

    def request(self, request_id: str) -> PermissionRequest | None:
        return self._requests.get(request_id)

    def pending_requests(self) -> list[PermissionRequest]:
        with self._lock:
            return [self._requests[i] for i in sorted(self._pending)]

    def history(self) -> list[PermissionRequest]:
        with self._lock:
            return list(self._requests.values())

    def query_history(self, query: History) -> Page[PermissionRequest]:
        """A page of the audit log, newest first, filtered as ``query`` says."""
        check_history(query)
        return select_history(reversed(self.history()), query)

    # approvals
    def put_approval(self, approval: SavedApproval) -> None:
        with self._lock:
            self._approvals[approval.id] = approval

    def delete_approval(self, approval_id: str) -> None:
        with self._lock:
            self._approvals.pop(approval_id, None)

    def approvals(self) -> list[SavedApproval]:
        with self._lock:
            return list(self._approvals.values())

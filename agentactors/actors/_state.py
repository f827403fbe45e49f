"""Where services keep what must survive a crash of their actor.

:class:`MemoryState` is a plain thread-safe object (not an actor) owned by the runtime,
so a restarted incarnation of ``permission`` or ``sessions`` reloads from it in
``setup()``.  It never blocks beyond a short lock.  The durable SQLite store (contract §7)
implements the same methods.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ._models import PermissionRequest, SavedApproval, Session


class MemoryState:
    """Sessions, requests (pending and final) and saved approvals, in memory."""

    def __init__(self, *, keep_decided: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._requests: dict[str, PermissionRequest] = {}
        self._pending: set[str] = set()
        self._approvals: dict[str, SavedApproval] = {}
        self._keep_decided = keep_decided

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
                self._trim()

    def _trim(self) -> None:
        excess = len(self._requests) - len(self._pending) - self._keep_decided
        if excess <= 0:
            return
        for request_id in list(self._requests):  # insertion order: oldest first
            if request_id not in self._pending:
                del self._requests[request_id]
                excess -= 1
                if not excess:
                    return

    def request(self, request_id: str) -> PermissionRequest | None:
        return self._requests.get(request_id)

    def pending_requests(self) -> list[PermissionRequest]:
        with self._lock:
            return [self._requests[i] for i in sorted(self._pending)]

    def history(self) -> list[PermissionRequest]:
        with self._lock:
            return list(self._requests.values())

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

"""The in-process operations: the one vocabulary of HTTP handlers, the debug console,
the in-process client and plugins.

Each function resolves the service by name at call time and sends it one message. Await
them from trio: cancel-safe, no thread held. A plain thread runs the same coroutine with
the runtime's ``blocking`` (``blocking(api.reply(...))``), which blocks the thread
instead. All raise the typed errors of :mod:`agentactors.model._errors`."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from agentactors.actors.runtime import DEFAULT_TIMEOUT, acall, pause, tell
from agentactors.actors.store import History
from agentactors.model import (
    BY_ASKER,
    BY_USER,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    CallTimeout,
    Decider,
    Event,
    Inbox,
    Page,
    PermissionRequest,
    Rule,
    SavedApproval,
    ServiceRestarting,
    Session,
    ToolRef,
    check_limit,
    new_id,
)

from ._permission_messages import (
    PERMISSION,
    AbortSession,
    AskPermission,
    CreateSession,
    DeleteSession,
    GetPermission,
    GetSession,
    ListPending,
    ListSaved,
    ListSessions,
    ReplyPermission,
    RevokeSaved,
    UpdateSession,
    WaitPermission,
)
from ._subscription import Subscription
from .bus import BUS, Since, Subscribe, Unsubscribe

RESTART_RETRY = 0.01  # seconds between re-attach attempts while a service restarts

# --- sessions ---------------------------------------------------------------------------


async def create_session(
    directory: str,
    *,
    title: str | None = None,
    parent_id: str | None = None,
    permission: tuple[Rule, ...] = (),
) -> Session:
    return await acall(PERMISSION, CreateSession(directory, title, parent_id, permission))


async def get_session(session_id: str) -> Session:
    return await acall(PERMISSION, GetSession(session_id))


async def list_sessions(
    directory: str | None = None, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[Session]:
    """A page of the sessions (of ``directory``; all if None), most recently updated
    first; ``cursor`` is the previous page's ``next_cursor``."""
    return await acall(PERMISSION, ListSessions(directory, limit, cursor))


async def update_session(
    session_id: str, *, title: str | None = None, permission: tuple[Rule, ...] | None = None
) -> Session:
    return await acall(PERMISSION, UpdateSession(session_id, title, permission))


async def abort_session(session_id: str) -> list[str]:
    """End the pending requests of a session and its descendants (``decidedBy`` abort)."""
    return await acall(PERMISSION, AbortSession(session_id))


async def delete_session(session_id: str) -> list[str]:
    """Delete a session and its descendants; their pending requests end as aborted."""
    return await acall(PERMISSION, DeleteSession(session_id))


# --- permissions ------------------------------------------------------------------------


async def ask(
    session_id: str,
    permission: str,
    patterns: Iterable[str] = (),
    *,
    metadata: Mapping[str, Any] | None = None,
    always: Iterable[str] = (),
    tool: ToolRef | None = None,
    timeout: float | None = None,
) -> PermissionRequest:
    """Ask; returns at once with the request as asked: pending (``effect`` ask), or
    already decided by a rule, a saved approval or a policy plugin."""
    message = _ask_message(session_id, permission, patterns, metadata, always, tool, timeout)
    return await acall(PERMISSION, message)


def _ask_message(  # noqa: PLR0917 - private: mirrors ask()'s signature
    session_id: str,
    permission: str,
    patterns: Iterable[str],
    metadata: Mapping[str, Any] | None,
    always: Iterable[str],
    tool: ToolRef | None,
    timeout: float | None,
    **extra: Any,
) -> AskPermission:
    return AskPermission(
        session_id=session_id,
        permission=permission,
        patterns=tuple(patterns),
        metadata=dict(metadata or {}),
        always=tuple(always),
        tool=tool,
        timeout=timeout,
        **extra,
    )


async def ask_and_wait(
    session_id: str,
    permission: str,
    patterns: Iterable[str] = (),
    *,
    metadata: Mapping[str, Any] | None = None,
    always: Iterable[str] = (),
    tool: ToolRef | None = None,
    timeout: float | None = None,
    request_id: str | None = None,
) -> PermissionRequest:
    """Ask and wait for the final state in one message.

    ``request_id`` may be pre-assigned (a fresh ``new_id("per")``) so the caller can
    correlate before the answer comes.  ``timeout`` bounds the request's own life (it
    ends as expired); the wait lasts until the request ends.

    Raises: the ask's refusals (InvalidRequest, SessionNotFound), ServiceRestarting
    only if the service crashed while taking the ask (a pending request survives a
    crash: this re-attaches by id).
    """
    request_id = request_id or new_id("per")
    message = _ask_message(
        session_id, permission, patterns, metadata, always, tool, timeout,
        wait=True, request_id=request_id,
    )  # fmt: skip
    try:
        return await acall(PERMISSION, message, timeout=None)
    except ServiceRestarting:
        return await wait_permission(request_id)


async def reply(
    request_id: str,
    reply: str,
    *,
    message: str | None = None,
    session_id: str | None = None,
    decided_by: Decider = BY_USER,
    scope: str = "session",
) -> PermissionRequest:
    """Reply once/always/reject; returns the final request (stored before returning)."""
    msg = ReplyPermission(request_id, reply, message, session_id, decided_by, scope)
    return await acall(PERMISSION, msg)


async def withdraw(request_id: str, *, decided_by: Decider = BY_ASKER) -> PermissionRequest:
    """The asker takes its request back: it ends rejected, ``decidedBy: asker``, alone (no
    reject cascade).  Raises AlreadyDecided (with the final state) if it had ended."""
    return await reply(request_id, "reject", decided_by=decided_by)


async def get_permission(request_id: str, session_id: str | None = None) -> PermissionRequest:
    return await acall(PERMISSION, GetPermission(request_id, session_id))


async def wait_permission(
    request_id: str, *, timeout: float | None = None, session_id: str | None = None
) -> PermissionRequest:
    """Wait until the request ends; re-attaches by id (every ``RESTART_RETRY`` seconds,
    until ``timeout``) while ``permission`` restarts.

    Raises:
        CallTimeout: still pending after ``timeout`` seconds.
        PermissionNotFound: no such request.
    """
    deadline = time.monotonic() + (math.inf if timeout is None else timeout)
    while True:
        remaining = deadline - time.monotonic()
        try:
            return await acall(
                PERMISSION,
                WaitPermission(request_id, session_id),
                timeout=None if remaining == math.inf else max(0.0, remaining),
            )
        except ServiceRestarting:
            if time.monotonic() + RESTART_RETRY >= deadline:
                raise CallTimeout(PERMISSION, "a decision", timeout or 0.0) from None
            await pause(RESTART_RETRY)


async def list_pending(
    directory: str | None = None,
    session_id: str | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[PermissionRequest]:
    """A page of the pending requests, in the order they were asked."""
    return await acall(PERMISSION, ListPending(directory, session_id, limit, cursor))


async def inbox(limit: int = DEFAULT_LIMIT) -> Inbox:
    """The newest ``limit`` pending requests of every directory (newest first) and how
    many are pending: reads every page of the pending list, one message each.  Raises
    InvalidRequest for a limit outside 1..MAX_LIMIT."""
    newest: deque[PermissionRequest] = deque(maxlen=check_limit(limit))
    total, cursor = 0, None
    while True:  # ids sort in the order asked: the newest are the last
        page = await list_pending(None, limit=MAX_LIMIT, cursor=cursor)
        total += len(page)
        newest.extend(page)
        if page.next_cursor is None:
            return Inbox(total, tuple(reversed(newest)))
        cursor = page.next_cursor


async def history(
    session_id: str | None = None,
    state: str | None = None,
    limit: int = DEFAULT_LIMIT,
    *,
    decider: str | None = None,
    since: int | None = None,
    until: int | None = None,
    before: str | None = None,
    cursor: str | None = None,
) -> Page[PermissionRequest]:
    """A page of the audit log, newest first; see :class:`History` for the filters and
    where a page starts."""
    query = History(session_id, state, limit, decider, since, until, before, cursor)
    return await acall(PERMISSION, query)


async def list_saved(
    scope: str | None = None,
    session_id: str | None = None,
    directory: str | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[SavedApproval]:
    """A page of the saved approvals, in the order they were saved."""
    message = ListSaved(scope, session_id, directory, limit, cursor)
    return await acall(PERMISSION, message)


async def revoke_saved(approval_id: str) -> SavedApproval:
    return await acall(PERMISSION, RevokeSaved(approval_id))


# --- events -----------------------------------------------------------------------------


async def subscribe(
    types: Iterable[str] | None = None,
    *,
    directory: str | None = None,
    maxlen: int = 1024,
    timeout: float = DEFAULT_TIMEOUT,
) -> Subscription:
    """A live subscription (registered with the bus before this returns)."""
    subscription = Subscription(types, maxlen=maxlen, directory=directory)
    await acall(BUS, Subscribe(subscription), timeout=timeout)
    return subscription


async def events_since(event_id: str) -> list[Event] | None:
    """The events the bus still holds after ``event_id`` (None: it no longer holds that
    id, so the caller must resynchronise), for ``Last-Event-ID`` replay."""
    return await acall(BUS, Since(event_id))


def unsubscribe(subscription: Subscription) -> None:
    """Close and forget; never blocks (safe in ``finally`` and on cancellation)."""
    subscription.close()
    tell(BUS, Unsubscribe(subscription))  # the bus gone (or restarting): nothing to forget

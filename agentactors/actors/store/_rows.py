"""Values <-> rows: the committed state loaded at start, the journal's writes applied in
the store's transaction, the event log, and the audit-log query.

Rows keep the domain values as the JSON of ``_wire`` with the columns the queries filter
on beside them.  Plain functions over a ``sqlite3.Connection``; no actor here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from agentactors.model import Event, Page, PermissionRequest, SavedApproval, Session, wire

from ._history import History, history_bounds, history_page
from ._state import MemoryState


def _json(value: Any) -> str:
    # default=str: an in-process caller's odd metadata value is kept as its text
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def load_state(conn: sqlite3.Connection, *, keep_decided: int = 100_000) -> MemoryState:
    """The committed state: every session and approval, every pending request and the
    newest ``keep_decided`` decided ones (older ones stay in the database: history)."""
    state = MemoryState(keep_decided=keep_decided)
    for (body,) in conn.execute("SELECT body FROM sessions ORDER BY rowid"):
        state.put_session(wire.parse_session(json.loads(body)))
    for (body,) in conn.execute("SELECT body FROM approvals ORDER BY rowid"):
        state.put_approval(wire.parse_approval(json.loads(body)))
    rows = conn.execute(
        "SELECT body FROM requests WHERE seq IN ("
        " SELECT seq FROM requests WHERE state = 'pending'"
        " UNION ALL"
        " SELECT seq FROM (SELECT seq FROM requests WHERE state != 'pending'"
        "  ORDER BY seq DESC LIMIT ?)"
        ") ORDER BY seq",
        (keep_decided,),
    )
    for (body,) in rows:
        state.put_request(wire.parse_request(json.loads(body)))
    return state


def recent_events(conn: sqlite3.Connection, limit: int) -> list[Event]:
    """The newest ``limit`` events of the log, oldest first."""
    rows = conn.execute(
        "SELECT id, type, directory, time, properties FROM events ORDER BY seq DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        Event(id=i, type=t, properties=json.loads(p), directory=d, time=when)
        for i, t, d, when, p in reversed(rows)
    ]


def _put_session(conn: sqlite3.Connection, session: Session) -> None:
    conn.execute(
        "INSERT INTO sessions (id, body) VALUES (?, ?) "
        "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
        (session.id, _json(wire.session(session))),
    )


def _delete_sessions(conn: sqlite3.Connection, ids: Sequence[str]) -> None:
    conn.executemany("DELETE FROM sessions WHERE id = ?", [(i,) for i in ids])


def _put_request(conn: sqlite3.Connection, request: PermissionRequest) -> None:
    decider = request.decided_by.kind if request.decided_by is not None else None
    conn.execute(
        "INSERT INTO requests (id, session_id, state, created, decider, decided_at, body) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "state = excluded.state, decider = excluded.decider, "
        "decided_at = excluded.decided_at, body = excluded.body",
        (
            request.id,
            request.session_id,
            request.state,
            request.created,
            decider,
            request.decided_at,
            _json(wire.request_state(request)),
        ),
    )


def _put_approval(conn: sqlite3.Connection, approval: SavedApproval) -> None:
    conn.execute(
        "INSERT INTO approvals (id, body) VALUES (?, ?) "
        "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
        (approval.id, _json(wire.approval(approval))),
    )


def _delete_approval(conn: sqlite3.Connection, approval_id: str) -> None:
    conn.execute("DELETE FROM approvals WHERE id = ?", (approval_id,))


WRITERS: dict[str, Callable[[sqlite3.Connection, Any], None]] = {
    "session": _put_session,
    "delete_sessions": _delete_sessions,
    "request": _put_request,
    "approval": _put_approval,
    "delete_approval": _delete_approval,
}
"""A journal write is ``(kind, value)``; these apply one inside the open transaction."""


def apply_writes(conn: sqlite3.Connection, writes: Iterable[tuple[str, Any]]) -> None:
    for kind, value in writes:
        WRITERS[kind](conn, value)


def append_events(conn: sqlite3.Connection, events: Sequence[Event]) -> None:
    conn.executemany(
        "INSERT INTO events (id, type, directory, time, properties) VALUES (?, ?, ?, ?, ?)",
        [(e.id, e.type, e.directory, e.time, _json(dict(e.properties))) for e in events],
    )


def prune_events(conn: sqlite3.Connection, keep: int) -> None:
    """Keep the newest ``keep`` events, pruning in chunks: the log holds between ``keep``
    and ``keep + keep // 10`` events (one delete per tenth, not one per commit)."""
    oldest, newest = conn.execute(  # one aggregate per select: both are index lookups
        "SELECT (SELECT min(seq) FROM events), (SELECT max(seq) FROM events)"
    ).fetchone()
    if newest is not None and newest - oldest + 1 > keep + keep // 10:
        conn.execute("DELETE FROM events WHERE seq <= ?", (newest - keep,))


def query_history(conn: sqlite3.Connection, query: History) -> Page[PermissionRequest]:
    """A page of the audit log, newest first (the SQL twin of ``_state.select_history``)."""
    where: list[str] = []
    args: list[Any] = []
    for column, value in (
        ("session_id", query.session_id),
        ("state", query.state),
        ("decider", query.decider),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if query.since is not None:
        where.append("created >= ?")
        args.append(query.since)
    if query.until is not None:
        where.append("created < ?")
        args.append(query.until)
    for bound in sorted(history_bounds(query)):
        where.append("seq < (SELECT seq FROM requests WHERE id = ?)")
        args.append(bound)
    sql = "SELECT body FROM requests"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY seq DESC LIMIT ?"
    args.append(query.limit + 1)
    rows = [wire.parse_request(json.loads(body)) for (body,) in conn.execute(sql, args)]
    return history_page(rows, query)


def load_request(conn: sqlite3.Connection, request_id: str) -> PermissionRequest | None:
    row = conn.execute("SELECT body FROM requests WHERE id = ?", (request_id,)).fetchone()
    return None if row is None else wire.parse_request(json.loads(row[0]))

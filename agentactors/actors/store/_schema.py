"""The SQLite side of the store: files, schema migrations, rows <-> values, queries.

Plain functions over a ``sqlite3.Connection``; no actor here.  ``start_services`` calls
:func:`open_database` and :func:`load_state` once from its calling thread before the
services start (blocking is allowed there); afterwards only the ``store`` actor touches
the database, through its own connection (``_actor.py``), which it reopens and reloads
from after a failed commit.

Layout: ``<data dir>/agentactors.db`` (+ ``-wal``, ``-shm``) and ``agentactors.lock``, an
advisory lock one server process holds for its lifetime, so two servers never share (and
silently fork) one state.  Rows keep the domain values as the JSON of ``_wire`` (the
shapes the HTTP API shows), with the columns the queries filter on beside them.

Schema versions (``PRAGMA user_version``), each a step applied in its own transaction:

1. sessions, requests (state, session, created), approvals, meta.
2. requests gain ``decider`` (the ``decidedBy`` kind) and ``decided_at``, filled from the
   JSON of the rows already there, with indexes for the history filters; the ``events``
   table (the bounded event log for ``Last-Event-ID`` replay across restarts).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from agentactors.model import (
    AgentActorsError,
    Event,
    Page,
    PermissionRequest,
    RuntimeFault,
    SavedApproval,
    Session,
    now_ms,
    wire,
)

from ._history import History, history_bounds, history_page
from ._state import MemoryState

DB_FILE = "agentactors.db"
LOCK_FILE = "agentactors.lock"
MEMORY = ":memory:"
SYNCHRONOUS = ("normal", "full")


class StoreError(AgentActorsError):
    """The data dir or database cannot be used (start refused); names the path."""

    tag = "StoreError"

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message, path=path)
        self.path = path


class StoreUnavailable(RuntimeFault):
    """A change could not be stored, so it was not made (and not acknowledged); retry.

    The HTTP layer answers 503 (a ``RuntimeFault``).
    """

    tag = "StoreUnavailableError"

    def __init__(self, reason: str) -> None:
        super().__init__(f"the change could not be stored, so it was not made: {reason}")
        self.reason = reason


# --- migrations ---------------------------------------------------------------------------

_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sessions (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE requests (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    state TEXT NOT NULL,
    created INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX requests_pending ON requests (seq) WHERE state = 'pending';
CREATE TABLE approvals (id TEXT PRIMARY KEY, body TEXT NOT NULL);
"""

_V2 = """
ALTER TABLE requests ADD COLUMN decider TEXT;
ALTER TABLE requests ADD COLUMN decided_at INTEGER;
CREATE INDEX requests_session ON requests (session_id, seq);
CREATE INDEX requests_decider ON requests (decider, seq);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    directory TEXT,
    time INTEGER NOT NULL,
    properties TEXT NOT NULL
);
"""
# Every index costs a page write per commit: only the history filters that select few rows
# of a large log have one (a time range scans newest first, which is what pages ask for).


def _fill_deciders(conn: sqlite3.Connection) -> None:
    """v2: the new columns of the rows v1 wrote, from their JSON (in Python: SQLite's
    JSON functions are not in every build)."""
    filled = []
    for seq, body in conn.execute("SELECT seq, body FROM requests WHERE state != 'pending'"):
        value = json.loads(body)
        decider = value.get("decidedBy") or {}
        filled.append((decider.get("kind"), value.get("time", {}).get("decided"), seq))
    conn.executemany("UPDATE requests SET decider = ?, decided_at = ? WHERE seq = ?", filled)


Step = Callable[[sqlite3.Connection], None]


def _script(script: str) -> Step:
    def run(conn: sqlite3.Connection) -> None:
        for statement in (s.strip() for s in script.split(";")):
            if statement:
                conn.execute(statement)

    return run


def _steps(*steps: Step) -> Step:
    def run(conn: sqlite3.Connection) -> None:
        for step in steps:
            step(conn)

    return run


MIGRATIONS: tuple[Step, ...] = (_script(_V1), _steps(_script(_V2), _fill_deciders))
"""Step ``n`` takes the schema from version ``n`` to ``n + 1``."""
LATEST = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, path: str, *, target: int = LATEST) -> int:
    """Bring the schema to ``target``; returns the version found.  Each step commits
    on its own (a crash between steps leaves a consistent older version).

    Raises:
        StoreError: the database is newer than this program.
    """
    found: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > LATEST:
        raise StoreError(
            f"{path}: the database has schema version {found}, newer than this agentactors "
            f"knows ({LATEST}); upgrade agentactors or use another --data-dir",
            path=path,
        )
    for version in range(found, target):
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version](conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return found


# --- files --------------------------------------------------------------------------------


@attrs.define(eq=False)
class DataDir:
    """An opened data dir: the database path and the process's lock on it."""

    directory: Path
    lock_fd: int | None

    @property
    def database(self) -> Path:
        return self.directory / DB_FILE

    def release(self) -> None:
        """Give up the lock (the process's exit does too, even after ``kill -9``)."""
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None


def data_dir_path(directory: str | os.PathLike[str]) -> Path:
    """``directory`` as an absolute, normalised path (``~`` expanded)."""
    return Path(os.path.abspath(os.path.expanduser(os.fspath(directory))))


def lock_data_dir(directory: str | os.PathLike[str]) -> DataDir:
    """Create the data dir if needed and take its lock.

    Raises:
        StoreError: it cannot be created or written, or another process holds it.
    """
    path = data_dir_path(directory)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds commands and more
        fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StoreError(
            f"{path}: cannot use this data dir: {exc.strerror or exc}", path=str(path)
        ) from exc
    if sys.platform != "win32":  # pragma: no branch - the lock is advisory; POSIX only
        import fcntl  # noqa: PLC0415 - POSIX only

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise StoreError(
                f"{path}: this data dir is in use by another agentactors process; "
                "stop it or pass another --data-dir",
                path=str(path),
            ) from exc
    return DataDir(path, fd)


def connect(path: Path, *, synchronous: str = "normal") -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, with the
    ``synchronous`` level asked for.  Checks the file is a database and writable."""
    where = str(path)
    try:
        conn = sqlite3.connect(where, isolation_level=None, timeout=5.0)
    except sqlite3.Error as exc:
        raise StoreError(f"{where}: cannot open the database: {exc}", path=where) from exc
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(f"{where}: not a usable agentactors database: {exc}", path=where) from exc
    if str(mode).lower() != "wal":
        conn.close()
        raise StoreError(f"{where}: cannot switch the database to WAL ({mode})", path=where)
    return conn


def open_database(
    data_dir: DataDir, *, synchronous: str = "normal"
) -> tuple[sqlite3.Connection, int]:
    """Connect, migrate to the latest schema and prove the database writable.

    Returns the connection and the schema version found before migrating.

    Raises:
        StoreError: corrupt, unwritable or too new (the message names the file).
    """
    path = data_dir.database
    conn = connect(path, synchronous=synchronous)
    try:
        found = migrate(conn, str(path))
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('opened', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(now_ms()),),
        )
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(
            f"{path}: not a usable agentactors database: {exc}", path=str(path)
        ) from exc
    except BaseException:
        conn.close()
        raise
    return conn, found


# --- values <-> rows ----------------------------------------------------------------------


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

"""The SQLite database of the store: opening it and its schema migrations.

Plain functions over a ``sqlite3.Connection``; no actor here (the rows and queries are in
``_rows.py``, the data dir and its lock in ``_datadir.py``).  ``start_services`` calls
:func:`open_database` and :func:`load_state` once from its calling thread before the
services start (blocking is allowed there); afterwards only the ``store`` actor touches
the database, through its own connection (``_actor.py``), which it reopens and reloads
from after a failed commit.

Tables keep the domain values as the JSON of ``_wire`` (the shapes the HTTP API shows),
with the columns the queries filter on beside them.

Schema versions (``PRAGMA user_version``), each a step applied in its own transaction:

1. sessions, requests (state, session, created), approvals, meta.
2. requests gain ``decider`` (the ``decidedBy`` kind) and ``decided_at``, filled from the
   JSON of the rows already there, with indexes for the history filters; the ``events``
   table (the bounded event log for ``Last-Event-ID`` replay across restarts).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from agentactors.model import now_ms

from ._datadir import DataDir
from ._errors import StoreError

SYNCHRONOUS = ("normal", "full")


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

"""The SQLite store, in process: what is kept across a restart, the order of store,
answer, release and publish, expiry across a restart, migrations, refusals at start, and
failures of the store while running (design/state.md)."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import trio

from agentactors.__main__ import main
from agentactors.actors import BUS, PERMISSION, Subscription, api, start_services, stop_services
from agentactors.actors._lifecycle import RunningServices
from agentactors.actors.bus import Since
from agentactors.actors.messages import History
from agentactors.actors.runtime import Crash, Service, acall
from agentactors.actors.store import (
    STORE,
    Journal,
    MemoryState,
    StoreError,
    StoreUnavailable,
)
from agentactors.actors.store._actor import BreakStore, StoreStatus
from agentactors.actors.store._datadir import DB_FILE
from agentactors.actors.store._schema import LATEST, migrate
from agentactors.http import HttpServer, Settings
from agentactors.model import (
    ConfigError,
    Decider,
    InvalidRequest,
    PermissionRequest,
    ServiceCrashed,
    ServiceRestarting,
    Session,
    new_id,
    now_ms,
    wire,
)
from agentactors.policy import Config, load_config

from .conftest import next_event, props

PROJECT = "/work/project"


def rows(database: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read the database as another process would: committed rows only."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        return conn.execute(sql, args).fetchall()


def stored_state(database: Path, request_id: str) -> str | None:
    found = rows(database, "SELECT state FROM requests WHERE id = ?", request_id)
    return found[0][0] if found else None


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def durable(config: Config, data_dir: Path) -> Iterator[RunningServices]:
    started = start_services(config, data_dir=data_dir)
    yield started
    stop_services()


@pytest.fixture
async def stream(durable: RunningServices) -> AsyncIterator[Subscription]:
    """Every event published after the test starts (durable services)."""
    subscription = await api.subscribe(maxlen=100_000)
    yield subscription
    api.unsubscribe(subscription)


def restart(config: Config, data_dir: Path) -> RunningServices:
    """A clean stop and a new start on the same data dir (a new process, in effect)."""
    stop_services()
    return start_services(config, data_dir=data_dir)


# --- what is kept ----------------------------------------------------------------------


async def test_a_restart_keeps_sessions_requests_approvals_and_decisions(
    durable: RunningServices, config: Config, data_dir: Path
) -> None:
    """Sessions (with their tree), pending requests (every field), decisions and saved
    approvals come back after a clean stop and start."""
    session = await api.create_session(PROJECT, title="kept")
    child = await api.create_session(PROJECT, parent_id=session.id)
    saved = await api.ask(session.id, "bash", ["git push"], always=["git push *"])
    user = Decider("user", address="127.0.0.1")
    await api.reply(saved.id, "always", decided_by=user, scope="project")
    denied = await api.ask(child.id, "bash", ["rm -rf /"])
    await api.reply(denied.id, "reject", message="no", decided_by=user)
    pending = [await api.ask(session.id, "bash", [f"make {i}"], timeout=3600) for i in range(3)]
    before = {r.id: r for r in await api.history()}

    restart(config, data_dir)

    assert {s.id for s in await api.list_sessions()} == {session.id, child.id}
    assert (await api.get_session(child.id)).parent_id == session.id
    assert {r.id for r in await api.list_pending()} == {a.id for a in pending}
    for asked in pending:  # every field, the deadline included
        assert await api.get_permission(asked.id) == asked
    assert {r.id: r for r in await api.history()} == before
    rejected = await api.get_permission(denied.id)
    assert rejected.decided_by == user
    assert rejected.message == "no"
    [approval] = await api.list_saved(scope="project")
    assert (approval.pattern, approval.saved_by) == ("git push *", user)
    again = await api.ask(child.id, "bash", ["git push origin main"])  # project scope
    assert again.effect == "allow"
    assert again.decided_by == Decider("approval", name=approval.id)


async def test_pending_requests_stay_pending_across_a_clean_stop(
    durable: RunningServices, config: Config, data_dir: Path
) -> None:
    """A clean stop ends nothing: no shutdown decision is stored or published."""
    session = await api.create_session(PROJECT)
    asked = await api.ask(session.id, "bash", ["make deploy"])
    restart(config, data_dir)
    assert (await api.get_permission(asked.id)).pending
    database = data_dir / DB_FILE
    assert rows(database, "SELECT count(*) FROM events WHERE type = 'permission.replied'") == [(0,)]


async def test_reject_pending_on_exit_ends_them_as_shutdown(data_dir: Path) -> None:
    """With [requests] reject_pending_on_exit the stop decides them: decidedBy shutdown."""
    config = Config(read_project_files=False, reject_pending_on_exit=True)
    start_services(config, data_dir=data_dir)
    session = await api.create_session(PROJECT)
    asked = await api.ask(session.id, "bash", ["make deploy"])
    stop_services()
    start_services(Config(read_project_files=False), data_dir=data_dir)
    try:
        final = await api.get_permission(asked.id)
    finally:
        stop_services()
    assert (final.state, final.reply, final.decided_by) == (
        "aborted",
        "reject",
        Decider("shutdown"),
    )
    replied = rows(
        data_dir / DB_FILE,
        "SELECT properties FROM events WHERE type = 'permission.replied'",
    )
    assert [json.loads(p)["decidedBy"] for (p,) in replied] == [{"kind": "shutdown"}]


# --- ordering: store, then answer / release, then publish -------------------------------


async def test_a_request_is_stored_before_it_is_published(
    durable: RunningServices, stream: Subscription
) -> None:
    session = await api.create_session(PROJECT)
    database = Path(durable.database or "")
    for _ in range(20):
        request_id = new_id("per")
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_ask_and_wait, session.id, request_id)
            asked = await next_event(stream, "permission.asked")
            assert props(asked)["id"] == request_id
            assert stored_state(database, request_id) == "pending"  # already committed
            await api.reply(request_id, "once")


async def _ask_and_wait(session_id: str, request_id: str) -> PermissionRequest:
    return await api.ask_and_wait(session_id, "bash", ["x"], request_id=request_id)


async def test_a_reply_is_stored_before_its_answer_and_the_askers_release(
    durable: RunningServices,
) -> None:
    session = await api.create_session(PROJECT)
    database = Path(durable.database or "")
    seen_at_release: list[str | None] = []

    async def asker(request_id: str, nursery: trio.Nursery) -> None:
        nursery.start_soon(reply, request_id)  # runs once the ask is posted
        final = await _ask_and_wait(session.id, request_id)
        seen_at_release.append(stored_state(database, final.id))

    async def reply(request_id: str) -> None:
        await api.reply(request_id, "once")
        seen_at_answer.append(stored_state(database, request_id))

    seen_at_answer: list[str | None] = []
    async with trio.open_nursery() as nursery:
        for _ in range(20):
            nursery.start_soon(asker, new_id("per"), nursery)
    assert seen_at_answer == ["replied"] * 20
    assert seen_at_release == ["replied"] * 20


async def test_concurrent_askers_and_repliers_are_all_stored(
    durable: RunningServices, config: Config, data_dir: Path
) -> None:
    """500 askers parked at once, replies from 50 tasks (group commits): every decision
    is stored and every asker released."""
    session = await api.create_session(PROJECT)
    send, receive = trio.open_memory_channel[str](500)
    released: list[PermissionRequest] = []

    async def asker(nursery: trio.Nursery) -> None:
        request_id = new_id("per")
        nursery.start_soon(send.send, request_id)  # runs once the ask is posted
        released.append(await _ask_and_wait(session.id, request_id))

    async def replier() -> None:
        async for request_id in receive:
            await api.reply(request_id, "once")

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for _ in range(50):
                nursery.start_soon(replier)
            async with trio.open_nursery() as askers:
                for _ in range(500):
                    askers.start_soon(asker, nursery)
            await send.aclose()
    assert len(released) == 500
    restart(config, data_dir)
    assert len(await api.history(state="replied", limit=1000)) == 500


# --- expiry and events across a restart -------------------------------------------------


async def test_a_request_that_expired_while_down_ends_expired_at_start(
    durable: RunningServices, config: Config, data_dir: Path
) -> None:
    session = await api.create_session(PROJECT)
    asked = await api.ask(session.id, "bash", ["make deploy"], timeout=3600)
    later = await api.ask(session.id, "bash", ["make test"], timeout=3600)
    stop_services()
    # While the server is down, the first request's deadline passes.
    database = data_dir / DB_FILE
    with closing(sqlite3.connect(database)) as conn, conn:
        (body,) = conn.execute("SELECT body FROM requests WHERE id = ?", (asked.id,)).fetchone()
        moved = json.loads(body)
        moved["expiresAt"] = now_ms() - 1000
        conn.execute("UPDATE requests SET body = ? WHERE id = ?", (json.dumps(moved), asked.id))
    start_services(config, data_dir=data_dir)
    final = await api.wait_permission(asked.id, timeout=10)
    assert (final.state, final.reply, final.decided_by) == ("expired", "reject", Decider("timeout"))
    assert (await api.get_permission(later.id)).pending  # its time has not come
    replied = rows(
        database, "SELECT properties FROM events WHERE type = 'permission.replied'"
    )  # stored with the decision, in the same transaction
    assert [json.loads(p)["requestID"] for (p,) in replied] == [asked.id]
    assert json.loads(replied[0][0])["state"] == "expired"


async def test_last_event_id_replay_works_across_a_restart(
    durable: RunningServices, stream: Subscription, config: Config, data_dir: Path
) -> None:
    session = await api.create_session(PROJECT)
    created = await next_event(stream, "session.created")
    asked = await api.ask(session.id, "bash", ["make deploy"])
    await api.reply(asked.id, "once")
    published = [await next_event(stream, t) for t in ("permission.asked", "permission.replied")]
    restart(config, data_dir)
    held = await acall(BUS, Since(created.id))
    assert held is not None
    assert [(e.id, e.type, dict(e.properties)) for e in held] == [
        (e.id, e.type, dict(e.properties)) for e in published
    ]


async def test_the_event_log_is_bounded(data_dir: Path) -> None:
    config = Config(read_project_files=False, event_retention=5)
    start_services(config, data_dir=data_dir)
    try:
        session = await api.create_session(PROJECT)
        for i in range(10):
            asked = await api.ask(session.id, "bash", [f"make {i}"])
            await api.reply(asked.id, "once")
    finally:
        stop_services()
    assert rows(data_dir / DB_FILE, "SELECT count(*) FROM events") == [(5,)]


# --- history: filters and pages, the same over memory and SQLite ------------------------


@pytest.fixture(params=["memory", "sqlite"])
def either(request: pytest.FixtureRequest, config: Config, data_dir: Path) -> Iterator[str]:
    if request.param == "memory":
        start_services(config, state=MemoryState())
    else:
        start_services(config, data_dir=data_dir)
    yield request.param
    stop_services()


async def test_history_filters_and_pages_alike_in_memory_and_sqlite(either: str) -> None:
    one = await api.create_session(PROJECT)
    two = await api.create_session(PROJECT)
    user = Decider("user", address="127.0.0.1")
    ids: list[str] = []
    for i in range(6):
        session = one if i % 2 else two
        asked = await api.ask(session.id, "bash", [f"make {i}"])
        ids.append(asked.id)
        if i < 4:
            await api.reply(asked.id, "once", decided_by=user)
    await api.abort_session(two.id)  # ends request 4 (decidedBy abort)
    created = {i: (await api.get_permission(i)).created for i in ids}
    middle = created[ids[2]]

    async def history(**query: Any) -> list[str]:
        return [r.id for r in await acall(PERMISSION, History(**query))]

    assert await history() == ids[::-1]
    assert await history(session_id=one.id) == [ids[5], ids[3], ids[1]]
    assert await history(state="pending") == [ids[5]]
    assert await history(decider="user") == ids[3::-1]
    assert await history(decider="abort") == [ids[4]]
    assert await history(since=middle) == [i for i in ids[::-1] if created[i] >= middle]
    assert await history(until=middle) == [i for i in ids[::-1] if created[i] < middle]
    assert ids[2] in await history(since=middle, until=middle + 1)
    pages: list[list[str]] = [await history(limit=4)]
    pages.append(await history(limit=4, before=pages[0][-1]))
    assert pages == [ids[:1:-1], ids[1::-1]]
    assert await history(before=new_id("per")) == []  # an unknown id
    first = await acall(PERMISSION, History(limit=4))
    assert first.next_cursor is not None
    rest = await acall(PERMISSION, History(limit=4, cursor=first.next_cursor))
    assert ([r.id for r in first], [r.id for r in rest]) == (ids[:1:-1], ids[1::-1])
    assert rest.next_cursor is None  # the last page
    both = History(limit=4, cursor=first.next_cursor, before=ids[1])
    assert [r.id for r in await acall(PERMISSION, both)] == [ids[0]]
    with pytest.raises(InvalidRequest, match="cursor"):
        await history(cursor=first.next_cursor.replace("h.", "p."))
    with pytest.raises(Exception, match="decider must be one of"):
        await history(decider="someone")


# --- migrations and refusals at start -----------------------------------------------------


async def test_an_empty_dir_is_created_at_the_latest_schema(config: Config, tmp_path: Path) -> None:
    data_dir = tmp_path / "a" / "b"
    started = start_services(config, data_dir=data_dir)
    stop_services()
    assert started.database == str(data_dir / DB_FILE)
    assert rows(data_dir / DB_FILE, "PRAGMA user_version") == [(LATEST,)]
    assert rows(data_dir / DB_FILE, "PRAGMA journal_mode") == [("wal",)]


async def test_a_v1_database_is_migrated_and_its_data_kept(config: Config, data_dir: Path) -> None:
    """Schema 1 (no events table, no decider column): rows written by it are read, and
    the history filters work on them after the migration."""
    data_dir.mkdir()
    database = data_dir / DB_FILE
    session = Session("ses_01M86VDHCR702026KPBHRDQ3RK", "calm-river", PROJECT, "old", 1, 1)
    pending = PermissionRequest(
        id="per_01M86VDHCVACQS8S4KHKRC2A7E",
        session_id=session.id,
        directory=PROJECT,
        permission="bash",
        patterns=("make deploy",),
        created=1000,
    )
    decided = PermissionRequest(
        id="per_01M86VDHCY56WJ36S4J9QPHDDJ",
        session_id=session.id,
        directory=PROJECT,
        permission="bash",
        patterns=("make test",),
        created=2000,
        state="replied",
        reply="once",
        decided_by=Decider("user", address="10.0.0.1"),
        decided_at=2500,
    )
    with closing(sqlite3.connect(database, isolation_level=None)) as conn:
        migrate(conn, str(database), target=1)
        conn.execute(
            "INSERT INTO sessions VALUES (?, ?)", (session.id, _json(wire.session(session)))
        )
        for request in (pending, decided):
            conn.execute(
                "INSERT INTO requests (id, session_id, state, created, body) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    request.id,
                    request.session_id,
                    request.state,
                    request.created,
                    _json(wire.request_state(request)),
                ),
            )
    assert rows(database, "PRAGMA user_version") == [(1,)]

    start_services(config, data_dir=data_dir)
    try:
        assert rows(database, "PRAGMA user_version") == [(LATEST,)]
        assert (await api.get_session(session.id)).title == "old"
        assert await api.list_pending() == [pending]
        assert await acall(PERMISSION, History(decider="user")) == [decided]
        replied = await api.reply(pending.id, "once")  # and it takes new writes
        assert replied.state == "replied"
    finally:
        stop_services()


def _json(value: Any) -> str:
    return json.dumps(value)


def test_a_newer_schema_is_refused(config: Config, data_dir: Path) -> None:
    data_dir.mkdir()
    with closing(sqlite3.connect(data_dir / DB_FILE)) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(StoreError, match="newer than this agentactors"):
        start_services(config, data_dir=data_dir)


def test_a_corrupt_database_fails_serve_naming_the_file(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir.mkdir()
    (data_dir / DB_FILE).write_bytes(b"this is not a database, it is a text file. " * 100)
    assert main(["serve", "--port", "0", "--data-dir", str(data_dir)]) == 2
    error = capsys.readouterr().err
    assert str(data_dir / DB_FILE) in error
    assert "not a usable agentactors database" in error


def test_an_unusable_data_dir_fails_serve_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The data dir cannot be created (a file is in the way)."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["serve", "--port", "0", "--data-dir", str(blocker / "data")]) == 2
    error = capsys.readouterr().err
    assert f"agentactors: {blocker / 'data'}: cannot use this data dir" in error


async def test_a_data_dir_in_use_by_another_process_is_refused(
    durable: RunningServices, data_dir: Path
) -> None:
    """Two servers on one data dir would fork the state: the second one exits 2."""
    command = ["-m", "agentactors", "serve", "--port", "0", "--data-dir", str(data_dir)]
    with trio.fail_after(30):
        result = await trio.run_process(
            [sys.executable, *command], check=False, capture_stderr=True, capture_stdout=True
        )
    assert result.returncode == 2
    assert b"in use by another agentactors process" in result.stderr


def test_store_settings_are_read_from_config(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(
        '[store]\nsynchronous = "full"\nevent_retention = 500\n'
        "[requests]\nreject_pending_on_exit = true\n"
    )
    config = load_config(good, user_config=False)
    assert (config.store_synchronous, config.event_retention) == ("full", 500)
    assert config.reject_pending_on_exit is True
    bad = tmp_path / "bad.toml"
    bad.write_text('[store]\nsynchronous = "sometimes"\n')
    with pytest.raises(ConfigError, match=r"bad.toml:2: key 'store.synchronous'"):
        load_config(bad, user_config=False)


def test_memory_keeps_nothing_on_disk(config: Config, tmp_path: Path) -> None:
    started = start_services(config, data_dir=":memory:")
    stop_services()
    assert started.database is None
    assert isinstance(started.state, MemoryState)


# --- failures while running ---------------------------------------------------------------


async def test_a_failed_commit_refuses_the_reply_and_keeps_the_request_pending(
    durable: RunningServices, config: Config, data_dir: Path
) -> None:
    """The connection breaks: the reply is refused (not acknowledged, not lost), the
    waiter re-attaches, the request is still pending; the store recovers by itself."""
    session = await api.create_session(PROJECT)
    asked = await api.ask(session.id, "bash", ["make deploy"])
    released: list[PermissionRequest] = []

    async def waiter(task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        released.append(await api.wait_permission(asked.id, timeout=30))

    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            await nursery.start(waiter)
            await acall(STORE, BreakStore("close"))
            with pytest.raises(StoreUnavailable):
                await api.reply(asked.id, "once")
            assert (await api.get_permission(asked.id)).pending
            assert released == []
            final = await api.reply(asked.id, "reject")  # reopened: stored now
    assert released == [final]
    restart(config, data_dir)
    assert (await api.get_permission(asked.id)).reply == "reject"


async def test_the_journal_has_one_writer(durable: RunningServices) -> None:
    """``permission`` is the journal's one writer: another service attaching is refused,
    and a failed commit reloads that writer alone, with sessions and requests intact."""
    session = await api.create_session(PROJECT, title="kept")
    asked = await api.ask(session.id, "bash", ["make deploy"])
    journal = durable.state
    assert isinstance(journal, Journal)
    assert journal.writer == PERMISSION
    intruder = Service()
    intruder.service_name = "intruder"
    with pytest.raises(RuntimeError, match="writer is 'permission'"):
        journal.attach(intruder)
    await acall(STORE, BreakStore("close"))  # the next commit fails: a reload
    with pytest.raises(StoreUnavailable):
        await api.create_session(PROJECT, title="lost")
    assert (await api.get_session(session.id)).title == "kept"
    assert [s.title for s in await api.list_sessions(PROJECT)] == ["kept"]
    assert (await api.reply(asked.id, "once")).reply == "once"
    assert journal.writer == PERMISSION


async def test_a_read_only_store_refuses_every_change_and_keeps_serving_reads(
    durable: RunningServices,
) -> None:
    session = await api.create_session(PROJECT)
    asked = await api.ask(session.id, "bash", ["make deploy"])
    await acall(STORE, BreakStore("readonly"))
    for _ in range(5):  # a failure does not count as a crash: no restart limit to hit
        with pytest.raises(StoreUnavailable):
            await api.reply(asked.id, "once")
    with pytest.raises(StoreUnavailable):  # an ask that cannot be stored is not made
        await api.ask_and_wait(session.id, "bash", ["make test"])
    assert [r.id for r in await api.list_pending()] == [asked.id]
    await acall(STORE, BreakStore(None))
    assert (await api.reply(asked.id, "once")).reply == "once"


async def test_a_store_crash_is_recovered_and_waiters_reattach(
    durable: RunningServices, config: Config, data_dir: Path
) -> None:
    session = await api.create_session(PROJECT)
    asked = await api.ask(session.id, "bash", ["make deploy"])
    released: list[PermissionRequest] = []

    async def waiter(task_status: trio.TaskStatus[None]) -> None:
        task_status.started()
        released.append(await api.wait_permission(asked.id, timeout=30))

    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            await nursery.start(waiter)
            with pytest.raises(ServiceCrashed):
                await acall(STORE, Crash("simulated"))
            status = await acall(STORE, StoreStatus())  # the new store has recovered
            assert (status.epoch, status.broken) == (1, None)
            final = await api.reply(asked.id, "once")
    assert released == [final]
    restart(config, data_dir)
    assert (await api.get_permission(asked.id)).reply == "once"


async def test_repeated_store_failures_under_load_lose_nothing_acknowledged(
    durable: RunningServices, config: Config, data_dir: Path
) -> None:
    """10 askers, each asking, waiting and replying 30 times, while the connection breaks
    after every 20th acknowledged reply: every acknowledged ask and reply is stored, every
    waiter is released with the reply that was acknowledged, and none hangs."""
    asked_ok: set[str] = set()
    acknowledged: dict[str, str] = {}
    released: dict[str, PermissionRequest] = {}
    refused = 0

    async def waiter(asked: PermissionRequest) -> None:
        released[asked.id] = await api.wait_permission(asked.id, timeout=60)

    async def asker(number: int, nursery: trio.Nursery) -> None:
        nonlocal refused
        session = await api.create_session(PROJECT)  # a reject cascades within a session
        for turn in range(30):
            try:
                asked = await api.ask(session.id, "bash", [f"make {number}-{turn}"])
            except (StoreUnavailable, ServiceRestarting):
                refused += 1
                continue
            asked_ok.add(asked.id)
            nursery.start_soon(waiter, asked)
            reply = ("once", "reject")[turn % 2]
            while True:
                try:
                    final = await api.reply(asked.id, reply)
                except (StoreUnavailable, ServiceRestarting):
                    refused += 1
                    await trio.lowlevel.checkpoint()
                    continue
                acknowledged[final.id] = final.reply or ""
                if len(acknowledged) % 20 == 0:
                    await acall(STORE, BreakStore("close"))
                break

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for number in range(10):
                nursery.start_soon(asker, number, nursery)
    assert refused > 0  # the failures did hit changes in flight
    assert set(released) == asked_ok == set(acknowledged)
    assert {i: r.reply for i, r in released.items()} == acknowledged
    restart(config, data_dir)
    stored = {r.id: r for r in await api.history(limit=1000)}
    assert {i: stored[i].reply for i in acknowledged} == acknowledged
    assert not any(r.pending for r in stored.values())


# --- over HTTP ----------------------------------------------------------------------------


@pytest.fixture
async def live_durable(
    durable: RunningServices, config: Config
) -> AsyncIterator[httpx.AsyncClient]:
    server = HttpServer(Settings(port=0, directory=PROJECT), config)
    async with trio.open_nursery() as nursery:
        url = await nursery.start(server.run)
        async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
            yield client
        server.shutdown()


async def test_over_http_a_reply_the_store_refuses_is_a_503_and_stays_pending(
    live_durable: httpx.AsyncClient,
) -> None:
    client = live_durable
    session = (await client.post("/session", json={})).json()
    asked = await client.post(
        f"/session/{session['id']}/permission",
        json={"permission": "bash", "patterns": ["make deploy"]},
    )
    request_id = asked.json()["id"]
    await acall(STORE, BreakStore("readonly"))
    refused = await client.post(f"/permission/{request_id}/reply", json={"reply": "once"})
    assert refused.status_code == 503
    assert refused.json()["_tag"] == "StoreUnavailableError"
    state = await client.get(f"/permission/{request_id}")
    assert (state.status_code, state.json()["state"]) == (200, "pending")
    await acall(STORE, BreakStore(None))
    ok = await client.post(f"/permission/{request_id}/reply", json={"reply": "once"})
    assert (ok.status_code, ok.json()) == (200, True)
    final = (await client.get(f"/permission/{request_id}/wait")).json()
    assert final["decidedBy"] == {"kind": "user", "address": "127.0.0.1"}


def test_memory_keeps_decided_requests_within_a_byte_budget() -> None:
    """Big decided requests are forgotten oldest first once their estimated bytes pass
    the budget; pending ones are always kept."""
    state = MemoryState(keep_decided_bytes=10 * 1024 * 1024)
    pending = PermissionRequest(
        id=new_id("per"), session_id=new_id("ses"), directory=PROJECT, permission="bash",
        patterns=("x" * 1024 * 1024,), created=1,
    )  # fmt: skip
    state.put_request(pending)
    decided = [
        attrs.evolve(pending, id=new_id("per"), state="replied", reply="reject", decided_at=2)
        for _ in range(40)
    ]
    for request in decided:
        state.put_request(request)
    kept = [r.id for r in state.history() if not r.pending]
    assert 5 <= len(kept) <= 10
    assert kept == [r.id for r in decided[-len(kept) :]]
    assert state.request(pending.id) == pending

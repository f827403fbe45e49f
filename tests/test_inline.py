"""A caller running a message inline while the actor is idle (``Service.inline``).

The borrowed run must be indistinguishable from the actor's own: one handler at a time,
no message overtaken, a crash stops the incarnation and restarts the name, the batch
leaves before the caller is answered, and a busy actor still times the caller out.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
from pykka._envelope import Envelope

from agentactors.actors import BUS, Subscription, api, start_services, stop_services, subscribe_now
from agentactors.actors.bus import BusActor, publish
from agentactors.actors.permission import PermissionActor
from agentactors.actors.runtime import (
    Request,
    RestartPolicy,
    Service,
    acall,
    call,
    current_service,
    handles,
    post,
    registry,
    start_singleton,
)
from agentactors.model import BlockingCallError, Event, ServiceCrashed, ServiceRestarting, new_id
from agentactors.policy import Config

from .service_helpers import Blocks, Boom, Whoami, assert_busy_actor_times_out_trio


@attrs.frozen
class Record(Request[int]):
    """Log ``n`` and the thread that handled it; yield the GIL inside the handler."""

    n: int
    linger: float = 0.0


@attrs.frozen
class CallOut(Request[object]):
    pass


@attrs.frozen
class Announce(Request[None]):
    pass


class Borrowable(Blocks, Service):
    inline = True

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[int, int]] = []  # (n, thread ident)
        self.inside = 0
        self.overlaps = 0

    @handles(Record)
    def _record(self, message: Record) -> int:
        self.inside += 1
        if self.inside != 1:
            self.overlaps += 1
        if message.linger:
            time.sleep(message.linger)  # releases the GIL: another runner could enter
        self.log.append((message.n, threading.get_ident()))
        self.inside -= 1
        return message.n

    @handles(Boom)
    def _boom(self, _: Boom) -> None:
        self.log.append((-1, threading.get_ident()))
        raise RuntimeError("kaboom")

    @handles(Whoami)
    def _whoami(self, _: Whoami) -> tuple[str, int, bool]:
        return self.actor_urn, threading.get_ident(), current_service() is self

    @handles(CallOut)
    def _call_out(self, _: CallOut) -> object:
        return call(BUS, Whoami())

    @handles(Announce)
    def _announce(self, _: Announce) -> None:
        publish("test.announced", {})


class NotBorrowable(Borrowable):
    inline = False


def actor(name: str) -> Borrowable:
    service = registry.resolve(name)
    assert isinstance(service, Borrowable)
    return service


def wait_idle(service: Service) -> None:
    """Until the actor's thread has released its execution lock (it waits for mail)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        # private: nothing public tells an actor is parked waiting for mail
        if service._exec.acquire(blocking=False):
            service._exec.release()
            return
        time.sleep(0.001)
    raise AssertionError("the actor never went idle")


async def test_an_idle_actor_runs_a_trio_callers_message_in_the_trio_thread() -> None:
    start_singleton("b", Borrowable)
    wait_idle(actor("b"))
    _, ident, current = await acall("b", Whoami())
    assert ident == threading.get_ident()
    assert current  # the run is the actor's own: current_service() is the actor
    assert current_service() is None  # and the caller's thread gets its role back
    assert actor("b").messages_handled == 1


async def test_a_service_that_does_not_opt_in_is_never_borrowed() -> None:
    start_singleton("n", NotBorrowable)
    wait_idle(actor("n"))
    for _ in range(20):
        _, ident, _ = await acall("n", Whoami())
        assert ident != threading.get_ident()


async def test_one_handler_at_a_time_between_inline_runs_and_the_actor_thread() -> None:
    """Trio callers, plain threads and posts hammer one actor whose handler gives the GIL
    away mid-run: no two runs ever overlap, and both kinds of runner took part."""
    start_singleton("b", Borrowable)
    service = actor("b")
    stop = threading.Event()

    def poster(base: int) -> None:
        n = base
        while not stop.is_set():
            post("b", Record(n, linger=0.0001)).get(timeout=5)
            n += 1
            time.sleep(0.0002)  # leave idle moments for the trio callers

    def caller(base: int) -> None:
        n = base
        while not stop.is_set():
            call("b", Record(n, linger=0.0001))
            n += 1
            time.sleep(0.0002)

    threads = [
        threading.Thread(target=poster, args=(1_000_000,)),
        threading.Thread(target=caller, args=(2_000_000,)),
    ]
    for thread in threads:
        thread.start()
    try:
        me = threading.get_ident()

        def enough() -> bool:  # both kinds of runner took enough turns
            runners = [ident for _, ident in service.log]
            inline = sum(1 for ident in runners if ident == me)
            return inline >= 20 and len(runners) - inline >= 20

        async def asker(base: int) -> None:
            n = base
            while not enough():
                await acall("b", Record(n, linger=0.0001))
                n += 1

        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                for index in range(4):
                    nursery.start_soon(asker, index * 100_000)
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
    assert service.overlaps == 0
    assert len(service.log) == service.messages_handled


async def test_no_inline_run_while_mail_is_queued() -> None:
    """Mail in the inbox (the actor not yet awake): the caller's message is posted
    behind it, never run ahead of it."""
    start_singleton("b", Borrowable)
    service = actor("b")
    wait_idle(service)
    # private: mail put in the inbox without a wake-up has no public way in
    queued: Any = service._create_future()
    service.actor_inbox._items.append(Envelope(Record(1), reply_to=queued))  # type: ignore[attr-defined] # no wake-up
    assert service.run_inline(Record(2)) is None
    assert await acall("b", Record(3)) == 3  # posted: wakes the actor, handled after 1
    assert queued.get(timeout=5) == 1
    assert [n for n, _ in service.log] == [1, 3]


async def test_posts_then_a_call_keep_their_order() -> None:
    start_singleton("b", Borrowable)
    service = actor("b")
    futures = [post("b", Record(n)) for n in range(200)]
    assert await acall("b", Record(200)) == 200
    assert [f.get(timeout=5) for f in futures] == list(range(200))
    assert [n for n, _ in service.log] == list(range(201))


async def test_no_inline_run_while_the_actor_thread_handles_a_message() -> None:
    """A busy actor keeps its lock: the trio caller waits (no thread held) and times out
    as before, and the loop never blocks."""
    start_singleton("b", Borrowable)
    await assert_busy_actor_times_out_trio("b")


async def test_a_crash_in_an_inline_run_restarts_the_name() -> None:
    """The caller gets ServiceCrashed, the incarnation stops (its thread tears down and
    fails the mail queued behind the crash), and the name reaches a new incarnation."""
    start_singleton("b", Borrowable, restart=RestartPolicy(max_restarts=3, within=60))
    old = actor("b")
    wait_idle(old)
    before, _, _ = await acall("b", Whoami())
    with pytest.raises(ServiceCrashed, match="kaboom"):
        await acall("b", Boom())
    assert old.log[-1] == (-1, threading.get_ident())  # it did crash in the trio thread
    assert old.crash is not None
    with pytest.raises(ServiceRestarting):
        old.post(Whoami()).get(timeout=1)  # the crashed incarnation refuses
    deadline = time.monotonic() + 5
    # private: a replaced incarnation's teardown is visible nowhere public
    while old.actor_ref.is_alive() or not old._closed:
        assert time.monotonic() < deadline, "the crashed actor's thread never tore down"
        await trio.sleep(0.001)
    after, _, _ = await acall("b", Whoami())
    assert after != before
    assert old.run_inline(Whoami()) is None  # a stopped incarnation is never borrowed
    info = next(r for r in registry.snapshot() if r.name == "b")
    assert info.restarts == 1
    assert info.alive


async def test_a_blocking_call_inside_an_inline_run_is_refused_as_a_crash() -> None:
    start_singleton(BUS, BusActor)
    start_singleton("b", Borrowable)
    wait_idle(actor("b"))
    with pytest.raises(ServiceCrashed) as info:
        await acall("b", CallOut())
    assert isinstance(info.value.cause, BlockingCallError)
    assert registry.snapshot()[-1].restarts == 1


async def test_events_of_an_inline_run_leave_before_the_caller_is_answered() -> None:
    start_singleton(BUS, BusActor)
    start_singleton("b", Borrowable)
    wait_idle(actor("b"))
    subscription = Subscription(["test.announced"])
    subscribe_now(subscription)
    await acall("b", Announce())
    event = subscription.get_nowait()  # already fanned out: the batch left first
    assert isinstance(event, Event)
    assert event.type == "test.announced"


async def test_with_the_sqlite_store_inline_runs_keep_stored_before_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asks and replies run inline in the trio thread; every event, answer and release
    still comes after the change is committed to SQLite."""
    borrowed: list[str] = []
    original = PermissionActor.run_inline

    def counted(self: PermissionActor, message: Any) -> Any:
        future = original(self, message)
        if future is not None:
            borrowed.append(type(message).__name__)
        return future

    monkeypatch.setattr(PermissionActor, "run_inline", counted)
    services = start_services(Config(read_project_files=False), data_dir=tmp_path)
    try:
        database = Path(services.database or "")
        subscription = await api.subscribe(["permission.asked", "permission.replied"])
        session = await api.create_session("/proj")
        for _ in range(10):
            request_id = new_id("per")
            async with trio.open_nursery() as nursery:
                nursery.start_soon(
                    functools.partial(
                        api.ask_and_wait, session.id, "bash", ["x"], request_id=request_id
                    )
                )
                with trio.fail_after(5):
                    asked = await subscription.receive()
                assert asked.properties["id"] == request_id
                assert _stored_state(database, request_id) == "pending"
                final = await api.reply(request_id, "once")
                assert final.state == "replied"
                assert _stored_state(database, request_id) == "replied"  # before the answer
                with trio.fail_after(5):
                    replied = await subscription.receive()
                assert replied.type == "permission.replied"
        api.unsubscribe(subscription)
    finally:
        stop_services()
    assert "AskPermission" in borrowed
    assert "ReplyPermission" in borrowed


def _stored_state(database: Path, request_id: str) -> str | None:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        row = connection.execute(
            "SELECT state FROM requests WHERE id = ?", (request_id,)
        ).fetchone()
    return None if row is None else str(row[0])

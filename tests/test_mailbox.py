"""Every message goes through the actor's mailbox and runs in the actor's own thread,
one at a time, in the order sent; the batch a handler made leaves before its callers
are woken."""

from __future__ import annotations

import functools
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import attrs
import trio

from agentactors.actors import Subscription, api, start_services, stop_services, subscribe_now
from agentactors.actors.bus import BUS, BusActor, publish
from agentactors.actors.runtime import (
    Request,
    Service,
    acall,
    call,
    current_service,
    handles,
    post,
    registry,
    start_singleton,
)
from agentactors.model import Event, new_id
from agentactors.policy import Config

from .service_helpers import Whoami


@attrs.frozen
class Record(Request[int]):
    """Log ``n``; answer it."""

    n: int


@attrs.frozen
class Announce(Request[None]):
    pass


class Recorder(Service):
    def __init__(self) -> None:
        super().__init__()
        self.log: list[int] = []

    @handles(Record)
    def _record(self, message: Record) -> int:
        self.log.append(message.n)
        return message.n

    @handles(Whoami)
    def _whoami(self, _: Whoami) -> tuple[int, bool]:
        return threading.get_ident(), current_service() is self

    @handles(Announce)
    def _announce(self, _: Announce) -> None:
        publish("test.announced", {})


def recorder(name: str) -> Recorder:
    service = registry.resolve(name)
    assert isinstance(service, Recorder)
    return service


async def test_every_message_runs_in_the_actors_own_thread() -> None:
    """A trio caller, a blocking caller and a post all reach the handler in the actor's
    thread, never the caller's; there ``current_service()`` is the actor."""
    start_singleton("r", Recorder)
    me = threading.get_ident()
    from_trio = await acall("r", Whoami())
    from_thread = await trio.to_thread.run_sync(call, "r", Whoami())
    posted = post("r", Whoami()).get(timeout=5)
    assert from_trio == from_thread == posted
    actor_thread, current = from_trio
    assert actor_thread != me
    assert current
    assert current_service() is None


async def test_posts_then_a_call_keep_their_order() -> None:
    start_singleton("r", Recorder)
    futures = [post("r", Record(n)) for n in range(200)]
    assert await acall("r", Record(200)) == 200
    assert [f.get(timeout=5) for f in futures] == list(range(200))
    assert recorder("r").log == list(range(201))


async def test_events_of_a_handler_leave_with_its_batch_for_the_bus() -> None:
    """A handler's event goes out with its batch, through the bus's mailbox, to a
    subscription registered (without waiting) before the handler ran."""
    start_singleton(BUS, BusActor)
    start_singleton("r", Recorder)
    subscription = Subscription(["test.announced"])
    subscribe_now(subscription)
    await acall("r", Announce())
    with trio.fail_after(5):
        event = await subscription.receive()
    assert isinstance(event, Event)
    assert event.type == "test.announced"


async def test_with_the_sqlite_store_answers_and_events_follow_the_commit(
    tmp_path: Path,
) -> None:
    """Asks and replies go through the permission actor's mailbox; every event, answer
    and release comes after the change is committed to SQLite."""
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


def _stored_state(database: Path, request_id: str) -> str | None:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        row = connection.execute(
            "SELECT state FROM requests WHERE id = ?", (request_id,)
        ).fetchone()
    return None if row is None else str(row[0])

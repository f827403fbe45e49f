"""One behaviour suite, run over both transports: in-process and HTTP.

The same test body talks to the registry by name or to a real HTTP server on an
ephemeral port; both must reach the one permission service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator

import pytest
import trio

from agentactors.actors import api
from agentactors.actors._lifecycle import RunningServices
from agentactors.actors.runtime import blocking
from agentactors.client import AsyncClient, Client
from agentactors.model import (
    AlreadyDecided,
    InvalidRequest,
    PermissionNotFound,
    SessionNotFound,
    new_id,
)

from .http_helpers import Live


@pytest.fixture(params=["in-process", "http"])
async def client(request: pytest.FixtureRequest, live: Live) -> AsyncIterator[AsyncClient]:
    """An AsyncClient over each transport (the server runs for both)."""
    if request.param == "in-process":
        yield AsyncClient.in_process()
        return
    async with AsyncClient.connect(live.url) as remote:
        yield remote


async def test_ask_list_reply_get(client: AsyncClient) -> None:
    """ask -> pending -> listed -> reply once -> final state everywhere."""
    session = await client.create_session("/work/project", title="suite")
    assert (await client.get_session(session.id)).title == "suite"
    request = await client.ask(session.id, "bash", ["make deploy"])
    assert request.state == "pending"
    assert request.id in [r.id for r in await client.pending(session_id=session.id)]
    final = await client.reply(request.id, "once", message="ok")
    assert (final.state, final.reply) == ("replied", "once")
    assert (await client.get(request.id)).reply == "once"
    assert request.id not in [r.id for r in await client.pending()]


async def test_waiting_ask_released_by_a_reply(client: AsyncClient) -> None:
    """ask(wait=True) returns the final state once someone replies."""
    session = await client.create_session("/work/project")
    events = await api.subscribe(["permission.asked"])
    result = []

    async def asker() -> None:
        result.append(await client.ask(session.id, "bash", ["make deploy"], wait=True))

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(asker)
            asked = await events.receive()
            await client.reply(asked.properties["id"], "reject", message="not now")
    assert (result[0].reply, result[0].message) == ("reject", "not now")


async def test_typed_errors(client: AsyncClient) -> None:
    """Unknown, decided, malformed and missing: the same exceptions over both transports."""
    session = await client.create_session("/work/project")
    with pytest.raises(PermissionNotFound):
        await client.reply(new_id("per"), "once")
    with pytest.raises(InvalidRequest):
        await client.get("not-an-id")
    with pytest.raises(SessionNotFound):
        await client.get_session(new_id("ses"))
    request = await client.ask(session.id, "bash", ["make"])
    await client.reply(request.id, "once")
    with pytest.raises(AlreadyDecided) as info:
        await client.reply(request.id, "reject")
    assert info.value.request.reply == "once"


async def test_always_saved_and_revoked(client: AsyncClient) -> None:
    """always saves an approval the next ask uses; revoke removes it."""
    session = await client.create_session("/work/project")
    request = await client.ask(session.id, "bash", ["npm test"], always=["npm *"])
    await client.reply(request.id, "always")
    (saved,) = await client.saved(scope="session")
    assert saved.pattern == "npm *"
    assert (await client.ask(session.id, "bash", ["npm run lint"])).effect == "allow"
    await client.revoke(saved.id)
    assert (await client.ask(session.id, "bash", ["npm run lint"])).effect == "ask"
    assert len(await client.history(session_id=session.id)) == 3


async def test_abort_and_wait(client: AsyncClient) -> None:
    """abort ends pending requests; wait returns their final state."""
    session = await client.create_session("/work/project")
    request = await client.ask(session.id, "bash", ["make"])
    await client.abort_session(session.id)
    final = await client.wait(request.id, timeout=5)
    assert final.state == "aborted"


async def test_lists_come_in_pages_and_walk_follows_them(client: AsyncClient) -> None:
    """Each list method answers a page with its next_cursor; walk yields every row once,
    in the list's order, over both transports."""
    directory = f"/work/{new_id('ses')}"
    sessions = [(await client.create_session(directory)).id for _ in range(5)]
    first = await client.list_sessions(directory, limit=2)
    assert [s.id for s in first] == sessions[:2:-1]
    assert first.next_cursor is not None
    second = await client.list_sessions(directory, limit=2, cursor=first.next_cursor)
    assert [s.id for s in second] == sessions[2:0:-1]
    walked = [s.id async for s in client.walk(client.list_sessions, directory, limit=2)]
    assert walked == sessions[::-1]
    asked = [(await client.ask(sessions[0], "bash", [f"make {i}"])).id for i in range(5)]
    pending = client.walk(client.pending, directory=directory, limit=2)
    assert [r.id async for r in pending] == asked
    for request_id in asked:
        await client.reply(request_id, "once")
    history = client.walk(client.history, session_id=sessions[0], limit=2)
    assert [r.id async for r in history] == asked[::-1]


async def test_the_inbox_lists_every_directory_newest_first(client: AsyncClient) -> None:
    """Pending requests of two directories: the newest ``limit``, newest first, of total."""
    here = await client.create_session("/work/inbox-a")
    there = await client.create_session("/work/inbox-b")
    first = await client.ask(here.id, "bash", ["make a"])
    second = await client.ask(there.id, "bash", ["make b"])
    third = await client.ask(here.id, "bash", ["make c"])
    inbox = await client.inbox()
    mine = [r for r in inbox.requests if r.session_id in (here.id, there.id)]
    assert [r.id for r in mine] == [third.id, second.id, first.id]
    assert [r.directory for r in mine] == ["/work/inbox-a", "/work/inbox-b", "/work/inbox-a"]
    assert inbox.total >= 3
    newest = await client.inbox(limit=1)
    assert [r.id for r in newest.requests] == [inbox.requests[0].id]
    assert newest.total == inbox.total
    with pytest.raises(InvalidRequest):
        await client.inbox(limit=0)


async def test_withdraw_ends_only_that_request_decided_by_the_asker(client: AsyncClient) -> None:
    """withdraw: rejected, decidedBy asker, audited as such; the session's other request
    stays pending (no reject cascade); a second withdraw is AlreadyDecided."""
    session = await client.create_session("/work/project")
    request = await client.ask(session.id, "bash", ["make deploy"])
    other = await client.ask(session.id, "bash", ["make clean"])
    final = await client.withdraw(request.id)
    assert (final.state, final.reply) == ("replied", "reject")
    assert final.decided_by is not None
    assert final.decided_by.kind == "asker"
    assert (await client.wait(request.id, timeout=5)).decided_by == final.decided_by
    assert (await client.get(other.id)).state == "pending"
    (audited,) = await client.history(session_id=session.id, decider="asker")
    assert audited.id == request.id
    with pytest.raises(AlreadyDecided) as info:
        await client.withdraw(request.id)
    assert info.value.request.decided_by == final.decided_by
    with pytest.raises(PermissionNotFound):
        await client.withdraw(new_id("per"))


async def test_events_of_the_types_asked_for_in_order(client: AsyncClient) -> None:
    """``events(types)`` yields those events as they are published, in order, and never
    the stream's own notices (``server.connected``)."""
    session = await client.create_session("/work/project")
    seen: list[tuple[str, str]] = []
    with trio.fail_after(10):
        async with client.events(["permission.asked", "permission.replied"]) as stream:
            request = await client.ask(session.id, "bash", ["make deploy"])
            await client.reply(request.id, "once")
            async for event in stream:
                seen.append((event.type, event.properties.get("id", request.id)))
                if len(seen) == 2:
                    break
    assert [t for t, _ in seen] == ["permission.asked", "permission.replied"]
    assert seen[0][1] == request.id


async def test_blocking_client_reads_events_over_http(live: Live) -> None:
    """The blocking HTTP client's ``events`` reads the stream from a plain thread."""
    session = await api.create_session("/work/project")

    def script() -> list[str]:
        with Client.connect(live.url) as client, client.events(["permission.asked"]) as stream:
            asked = client.ask(session.id, "bash", ["make deploy"])
            event = next(iter(stream))
            return [asked.id, event.properties["id"]]

    with trio.fail_after(10):
        asked, received = await trio.to_thread.run_sync(script)
    assert received == asked


def test_blocking_client_from_a_thread(services: RunningServices) -> None:
    """The sync in-process client works from a plain thread (scripts, plugins), its
    walk included."""

    def script() -> tuple[str | None, list[str]]:
        client = Client.in_process()
        session = client.create_session("/work/project")
        request = client.ask(session.id, "bash", ["make"])
        others = [client.create_session("/work/project").id for _ in range(3)]
        walked = [s.id for s in client.walk(client.list_sessions, "/work/project", limit=1)]
        assert walked == [*others[::-1], session.id]
        return client.reply(request.id, "once").reply, walked

    reply, walked = trio.run(trio.to_thread.run_sync, script)
    assert (reply, len(walked)) == ("once", 4)


def test_blocking_runs_an_operation_in_one_step_and_refuses_one_that_suspends(
    services: RunningServices,
) -> None:
    """``blocking`` runs an ``api`` coroutine to its end in the calling thread; a
    coroutine that would suspend is refused, not left half-run."""

    class Suspend:
        def __await__(self) -> Generator[None]:
            yield

    async def suspends() -> None:
        await Suspend()

    session = blocking(api.create_session("/work/project"))
    assert blocking(api.get_session(session.id)) == session
    with pytest.raises(RuntimeError, match="suspends"):
        blocking(suspends())

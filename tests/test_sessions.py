"""The sessions service: ids, tree, events, updates, deletes."""

from __future__ import annotations

import pytest

from agentactors.actors import PERMISSION, Subscription, api
from agentactors.actors._lifecycle import RunningServices
from agentactors.actors.runtime import Crash, acall
from agentactors.model import InvalidRequest, Rule, ServiceCrashed, SessionNotFound, is_id, new_id

from .conftest import next_event, props


async def test_create_get_list(services: RunningServices, events: Subscription) -> None:
    """A session gets a ses_ id, OpenCode's fields, and a session.created event."""
    session = await api.create_session("/p/../p", title="hello")
    assert is_id(session.id, "ses")
    assert session.directory == "/p"
    assert session.title == "hello"
    assert await api.get_session(session.id) == session
    other = await api.create_session("/q")
    assert [s.id for s in await api.list_sessions()] == [other.id, session.id]  # newest first
    assert [s.id for s in await api.list_sessions("/q")] == [other.id]
    event = await next_event(events, "session.created")
    assert props(event)["sessionID"] == session.id
    assert props(event)["info"]["title"] == "hello"


async def test_bad_inputs(services: RunningServices) -> None:
    """Relative directory, unknown parent, malformed and unknown ids are refused."""
    with pytest.raises(InvalidRequest, match="absolute"):
        await api.create_session("relative/dir")
    with pytest.raises(SessionNotFound):
        await api.create_session("/p", parent_id=new_id("ses"))
    with pytest.raises(InvalidRequest, match="ses_"):
        await api.get_session("per_01M86R58YQ77K925QPNE6NMD25")
    with pytest.raises(SessionNotFound):
        await api.get_session(new_id("ses"))


async def test_update_rules_apply_to_later_asks(services: RunningServices) -> None:
    """Session rules set by update decide the session's next asks."""
    session = await api.create_session("/p")
    updated = await api.update_session(
        session.id, title="renamed", permission=(Rule("bash", "make *", "allow"),)
    )
    assert updated.title == "renamed"
    assert updated.updated >= session.updated
    assert (await api.ask(session.id, "bash", ["make test"])).effect == "allow"
    other = await api.create_session("/p")
    assert (await api.ask(other.id, "bash", ["make test"])).effect == "ask"


async def test_delete_removes_the_tree_and_ends_requests(
    services: RunningServices, events: Subscription
) -> None:
    """Deleting a session deletes its children and ends their pending requests."""
    parent = await api.create_session("/p")
    child = await api.create_session("/p", parent_id=parent.id)
    asked = await api.ask(child.id, "bash", ["make"])
    assert set(await api.delete_session(parent.id)) == {parent.id, child.id}
    final = await api.wait_permission(asked.id, timeout=5)
    assert final.state == "aborted"
    with pytest.raises(SessionNotFound):
        await api.get_session(child.id)
    with pytest.raises(SessionNotFound):
        await api.ask(parent.id, "bash", ["make"])
    await next_event(events, "session.deleted")


async def _walk(directory: str | None, limit: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = await api.list_sessions(directory, limit=limit, cursor=cursor)
        assert len(page) <= limit
        ids += [s.id for s in page]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


async def test_lists_are_pages_newest_updated_first_through_changes_and_a_restart(
    services: RunningServices,
) -> None:
    """Pages walk every session once, most recently updated first, per directory or all;
    updates move a session first, deletes remove it, and a restarted service (rebuilding
    its index from the state) answers the same pages."""
    a = [(await api.create_session("/a")).id for _ in range(7)]
    b = [(await api.create_session("/b")).id for _ in range(3)]
    assert await _walk("/a", 3) == a[::-1]
    assert await _walk(None, 4) == (a + b)[::-1]
    moved = await api.update_session(a[2], title="moved")
    await api.delete_session(a[4])
    kept = [await api.get_session(i) for i in a if i != a[4]]
    assert moved.updated == max(s.updated for s in kept)  # ties (same ms): by id
    expected = [s.id for s in sorted(kept, key=lambda s: (s.updated, s.id), reverse=True)]
    assert await _walk("/a", 2) == expected
    assert await _walk("/nowhere", 2) == []
    with pytest.raises(ServiceCrashed):
        await acall(PERMISSION, Crash("simulated"))
    assert await _walk("/a", 2) == expected
    every = [await api.get_session(i) for i in (*expected, *b)]
    assert await _walk(None, 3) == [
        s.id for s in sorted(every, key=lambda s: (s.updated, s.id), reverse=True)
    ]


async def test_bad_pages_are_refused(services: RunningServices) -> None:
    """A limit outside 1..1,000 and a cursor of another list are InvalidRequest."""
    for limit in (0, 1001, True):
        with pytest.raises(InvalidRequest, match="limit"):
            await api.list_sessions(limit=limit)
    with pytest.raises(InvalidRequest, match="cursor"):
        await api.list_sessions(cursor=f"p.{new_id('per')[4:]}")

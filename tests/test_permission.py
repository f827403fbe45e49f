"""The permission service through its in-process API: ask, reply, cascade, expiry, abort."""

from __future__ import annotations

import attrs
import pytest
import trio

from agentactors.actors import Subscription, api
from agentactors.actors._lifecycle import RunningServices
from agentactors.model import (
    AlreadyDecided,
    Decider,
    InvalidRequest,
    PermissionNotFound,
    PermissionRequest,
    Rule,
    SessionNotFound,
    ToolRef,
    new_id,
)
from agentactors.policy import Config

from .conftest import next_event, props

RULES = (
    Rule("bash", "*", "ask"),
    Rule("bash", "git status", "allow"),
    Rule("bash", "rm *", "deny"),
)


@pytest.fixture
def config() -> Config:
    return Config(rules_before_project=RULES, read_project_files=False)


async def test_allow_passes_at_once_and_is_audited(services: RunningServices) -> None:
    """An allowed ask is decided at once (reply once, by the rule) and kept in history."""
    session = await api.create_session("/p")
    asked = await api.ask(session.id, "bash", ["git status"])
    assert asked.effect == "allow"
    assert not asked.pending  # decided at once
    final = await api.wait_permission(asked.id)
    assert (final.state, final.reply, final.decided_by.kind) == ("replied", "once", "rule")  # type: ignore[union-attr]
    assert [r.id for r in await api.history()] == [asked.id]
    assert await api.list_pending() == []


async def test_deny_answers_at_once_naming_the_rule(services: RunningServices) -> None:
    """A denied ask ends at once with reject and the rule that denied it."""
    session = await api.create_session("/p")
    asked = await api.ask(session.id, "bash", ["ls", "rm -rf /"])
    final = await api.wait_permission(asked.id)
    assert final.effect == "deny"
    assert final.reply == "reject"
    assert final.rule == Rule("bash", "rm *", "deny")
    assert "rm *" in (final.message or "")


async def test_ask_is_pending_and_published(
    services: RunningServices, events: Subscription
) -> None:
    """An ask that needs a human is pending, listed, and published as permission.asked."""
    session = await api.create_session("/p")
    asked = await api.ask(
        session.id, "bash", ["git push"], metadata={"command": "git push"}, always=["git push *"]
    )
    event = await next_event(events, "permission.asked")
    assert props(event) | {"time": None} == {
        "id": asked.id,
        "sessionID": session.id,
        "permission": "bash",
        "patterns": ["git push"],
        "metadata": {"command": "git push"},
        "always": ["git push *"],
        "time": None,
    }
    assert [r.id for r in await api.list_pending("/p")] == [asked.id]
    assert await api.list_pending("/elsewhere") == []


@pytest.mark.parametrize("reply", ["once", "always", "reject"])
async def test_every_reply_releases_and_publishes(
    services: RunningServices, events: Subscription, reply: str
) -> None:
    """once/always/reject each release the asker and publish permission.replied."""
    session = await api.create_session("/p")
    asked = await api.ask(session.id, "bash", ["make"])
    final = await api.reply(asked.id, reply, message="because")
    assert (await api.wait_permission(asked.id, timeout=5)) == final
    event = await next_event(events, "permission.replied")
    assert props(event) == {
        "sessionID": session.id,
        "requestID": asked.id,
        "reply": reply,
        "message": "because",
        "decidedBy": {"kind": "user"},
        "state": "replied",
    }


async def test_second_reply_is_already_decided_with_final_state(services: RunningServices) -> None:
    """A reply to a decided request raises AlreadyDecided carrying the final state."""
    session = await api.create_session("/p")
    asked = await api.ask(session.id, "bash", ["make"])
    await api.reply(asked.id, "once")
    with pytest.raises(AlreadyDecided) as info:
        await api.reply(asked.id, "reject")
    assert info.value.request.reply == "once"


async def test_unknown_malformed_and_foreign_ids(services: RunningServices) -> None:
    """Unknown id: not found; malformed: invalid; another session's request: not found."""
    mine = await api.create_session("/p")
    theirs = await api.create_session("/p")
    asked = await api.ask(theirs.id, "bash", ["make"])
    with pytest.raises(PermissionNotFound):
        await api.reply(new_id("per"), "once")
    with pytest.raises(InvalidRequest, match="per_"):
        await api.reply("nope", "once")
    with pytest.raises(InvalidRequest, match="reply"):
        await api.reply(asked.id, "maybe")
    with pytest.raises(PermissionNotFound):
        await api.reply(asked.id, "once", session_id=mine.id)
    assert (await api.get_permission(asked.id)).pending  # left alone
    with pytest.raises(SessionNotFound):
        await api.ask(new_id("ses"), "bash", ["make"])


async def test_always_saves_and_releases_what_now_passes(services: RunningServices) -> None:
    """always: saves the approval; the session's other pending requests it covers end."""
    session = await api.create_session("/p")
    first = await api.ask(session.id, "bash", ["npm run build"], always=["npm run *"])
    covered = await api.ask(session.id, "bash", ["npm run test"])
    uncovered = await api.ask(session.id, "bash", ["make deploy"])
    other_session = await api.create_session("/p")
    elsewhere = await api.ask(other_session.id, "bash", ["npm run lint"])
    await api.reply(first.id, "always")
    released = await api.wait_permission(covered.id, timeout=5)
    assert released.reply == "always"
    assert released.decided_by.kind == "approval"  # type: ignore[union-attr]
    assert (await api.get_permission(uncovered.id)).pending
    assert (await api.get_permission(elsewhere.id)).pending  # session scope
    saved = await api.list_saved()
    assert [(a.pattern, a.scope) for a in saved] == [("npm run *", "session")]
    # and later asks in that session pass silently
    later = await api.ask(session.id, "bash", ["npm run anything"])
    assert later.effect == "allow"


async def test_project_scope_covers_other_sessions_of_the_directory(
    services: RunningServices,
) -> None:
    """always with project scope releases and allows across sessions of that directory."""
    one = await api.create_session("/p")
    two = await api.create_session("/p")
    three = await api.create_session("/q")
    first = await api.ask(one.id, "bash", ["cargo build"], always=["cargo build *"])
    same_dir = await api.ask(two.id, "bash", ["cargo build --release"])
    other_dir = await api.ask(three.id, "bash", ["cargo build"])
    await api.reply(first.id, "always", scope="project")
    assert (await api.wait_permission(same_dir.id, timeout=5)).allowed
    assert (await api.get_permission(other_dir.id)).pending


async def test_always_never_beats_a_configured_deny(services: RunningServices) -> None:
    """An approval of "*" still leaves rm denied."""
    session = await api.create_session("/p")
    asked = await api.ask(session.id, "bash", ["make"], always=["*"])
    await api.reply(asked.id, "always")
    assert (await api.ask(session.id, "bash", ["anything"])).effect == "allow"
    assert (await api.ask(session.id, "bash", ["rm -rf /"])).effect == "deny"


async def test_reject_cascades_to_the_sessions_other_requests(
    services: RunningServices, events: Subscription
) -> None:
    """reject ends the session's other pending requests (decidedBy cascade), not others'."""
    session = await api.create_session("/p")
    other = await api.create_session("/p")
    first = await api.ask(session.id, "bash", ["a"])
    second = await api.ask(session.id, "bash", ["b"])
    foreign = await api.ask(other.id, "bash", ["c"])
    await api.reply(first.id, "reject", message="no")
    cascaded = await api.wait_permission(second.id, timeout=5)
    assert cascaded.reply == "reject"
    assert cascaded.decided_by == Decider("cascade", name=first.id)
    assert (await api.get_permission(foreign.id)).pending
    ends = {props(await next_event(events, "permission.replied"))["requestID"] for _ in range(2)}
    assert ends == {first.id, second.id}


async def test_reject_cascade_can_be_turned_off(config: Config) -> None:
    """With reject_cascade = false only the rejected request ends."""
    from agentactors.actors import start_services, stop_services
    from agentactors.actors.store import MemoryState

    start_services(Config(reject_cascade=False, read_project_files=False), state=MemoryState())
    try:
        session = await api.create_session("/p")
        first = await api.ask(session.id, "bash", ["a"])
        second = await api.ask(session.id, "bash", ["b"])
        await api.reply(first.id, "reject")
        assert (await api.get_permission(second.id)).pending
    finally:
        stop_services()


async def test_timeout_expires_the_request(services: RunningServices, events: Subscription) -> None:
    """A request with a timeout ends as expired (reject, decidedBy timeout), published."""
    session = await api.create_session("/p")
    asked = await api.ask(session.id, "bash", ["make"], timeout=0.05)
    assert asked.expires_at is not None
    final = await api.wait_permission(asked.id, timeout=5)
    assert (final.state, final.reply, final.decided_by) == ("expired", "reject", Decider("timeout"))
    event = await next_event(events, "permission.replied")
    assert props(event)["decidedBy"] == {"kind": "timeout"}


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), 10**9])
async def test_bad_timeouts_are_refused(services: RunningServices, timeout: float) -> None:
    """A timeout must be a positive number of seconds within a week."""
    session = await api.create_session("/p")
    with pytest.raises(InvalidRequest, match="timeout"):
        await api.ask(session.id, "bash", ["make"], timeout=timeout)


async def test_abort_ends_the_session_tree(services: RunningServices, events: Subscription) -> None:
    """abort ends the pending requests of the session and its children (decidedBy abort)."""
    parent = await api.create_session("/p")
    child = await api.create_session("/p", parent_id=parent.id)
    bystander = await api.create_session("/p")
    a = await api.ask(parent.id, "bash", ["a"])
    b = await api.ask(child.id, "bash", ["b"])
    c = await api.ask(bystander.id, "bash", ["c"])
    assert set(await api.abort_session(parent.id)) == {parent.id, child.id}
    for asked in (a, b):
        final = await api.wait_permission(asked.id, timeout=5)
        assert (final.state, final.decided_by) == ("aborted", Decider("abort"))
    assert (await api.get_permission(c.id)).pending


async def test_patterns_are_derived_or_required(services: RunningServices) -> None:
    """No patterns: bash uses metadata.command, file kinds metadata.path, else invalid."""
    session = await api.create_session("/p")
    bash = await api.ask(session.id, "bash", metadata={"command": "git status"})
    assert bash.patterns == ("git status",)
    assert bash.effect == "allow"
    edit = await api.ask(session.id, "edit", metadata={"path": "src/../x.py"})
    assert edit.patterns == ("/p/x.py",)
    with pytest.raises(InvalidRequest, match="patterns"):
        await api.ask(session.id, "webfetch")


async def test_many_waiters_on_one_request(services: RunningServices) -> None:
    """Several tasks may wait on one request; one reply releases them all."""
    session = await api.create_session("/p")
    asked = await api.ask(session.id, "bash", ["make"])
    seen: list[str | None] = []

    async def waiter() -> None:
        seen.append((await api.wait_permission(asked.id, timeout=5)).reply)

    async with trio.open_nursery() as nursery:
        for _ in range(10):
            nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        await api.reply(asked.id, "once")
    assert seen == ["once"] * 10


async def test_revoke_saved_approval(services: RunningServices, events: Subscription) -> None:
    """A revoked approval no longer applies; revoking twice is not found."""
    session = await api.create_session("/p")
    asked = await api.ask(session.id, "bash", ["make"], always=["make *"])
    await api.reply(asked.id, "always")
    (saved,) = await api.list_saved(scope="session")
    await api.revoke_saved(saved.id)
    assert (await api.ask(session.id, "bash", ["make x"])).effect == "ask"
    with pytest.raises(Exception, match="not found"):
        await api.revoke_saved(saved.id)


async def test_a_final_request_keeps_every_field_of_the_pending_one(
    services: RunningServices,
) -> None:
    """The final state is built field by field (no attrs.evolve on the hot path): only
    the decision's fields differ from the pending request's."""
    session = await api.create_session("/tmp/project")
    asked = await api.ask(
        session.id,
        "bash",
        ["make deploy"],
        metadata={"k": 1},
        always=["make *"],
        tool=ToolRef("msg_1", "call_1"),
        timeout=60,
    )
    final = await api.reply(asked.id, "once", message="fine")
    changed = {
        field.name
        for field in attrs.fields(PermissionRequest)
        if getattr(final, field.name) != getattr(asked, field.name)
    }
    assert changed == {"state", "reply", "message", "decided_by", "decided_at"}

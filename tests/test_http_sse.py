"""Event streams over the wire: order, heartbeats, the global wrapper, directory scoping,
Last-Event-ID replay, no response timeout, and a graceful shutdown."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from agentactors.actors import api
from agentactors.actors.bus import publish
from agentactors.model import new_id
from agentactors.policy import Config

from .http_helpers import Live, Stream, open_stream

HEARTBEAT = 0.05


@pytest.fixture
def config() -> Config:
    return Config(read_project_files=False, heartbeat=HEARTBEAT)


async def test_events_come_in_order_with_their_ids(live: Live) -> None:
    """connected first, then session.created, permission.asked, permission.replied, each
    {id, type, properties} with the same id on its SSE id: line."""
    async with open_stream(live) as stream:
        session = await live.session()
        asked = (await live.ask(session["id"], "make deploy")).json()
        await live.client.post(f"/permission/{asked['id']}/reply", json={"reply": "once"})
        kinds = ("session.created", "permission.asked", "permission.replied")
        messages = [await stream.next_of(*kinds) for _ in kinds]
    assert [m.type for m in messages] == list(kinds)
    assert all(m.id == m.data["id"] and m.id.startswith("evt_") for m in messages)  # type: ignore[union-attr]
    assert messages[0].properties["info"]["id"] == session["id"]
    assert messages[1].properties["id"] == asked["id"]
    assert messages[2].properties == {
        "sessionID": session["id"],
        "requestID": asked["id"],
        "reply": "once",
        "decidedBy": {"kind": "user", "address": "127.0.0.1"},
        "state": "replied",
    }


async def test_a_burst_of_events_arrives_whole_and_in_order(live: Live) -> None:
    """Events published faster than a stream is sent go out several to a chunk; none is
    lost or reordered (more than one chunk's worth, less than the subscriber buffer)."""
    count = 300
    session = await live.session()
    async with open_stream(live) as stream:
        asked = [await api.ask(session["id"], "bash", [f"job {i}"]) for i in range(count)]
        seen = [(await stream.next_of("permission.asked")).properties["id"] for _ in asked]
    assert seen == [a.id for a in asked]


async def test_heartbeats_have_no_resume_id(live: Live) -> None:
    """An idle stream sends server.heartbeat (no SSE id:, so never a resume point)."""
    async with open_stream(live) as stream:
        heartbeat = await stream.next()
    assert heartbeat.type == "server.heartbeat"
    assert heartbeat.id is None
    assert heartbeat.properties == {}


async def test_global_stream_wraps_events_of_every_directory(live: Live) -> None:
    """/global/event carries every directory's events as {directory, project, payload}."""
    async with open_stream(live, "/global/event") as stream:
        await live.session("/elsewhere")
        message = await stream.next_of("session.created")
    assert message.data["directory"] == "/elsewhere"
    assert message.data["project"] == "global"
    assert message.data["payload"]["type"] == "session.created"


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/event?directory=/a", {}), ("/event", {"x-opencode-directory": "%2Fa"})],
)
async def test_event_stream_is_scoped_to_its_directory(
    live: Live, path: str, headers: dict[str, str]
) -> None:
    """/event shows the events of the directory in scope only."""
    async with open_stream(live, path, headers) as stream:
        await live.session("/b")
        mine = await live.session("/a")
        message = await stream.next_of("session.created")
    assert message.properties["sessionID"] == mine["id"]


async def test_last_event_id_replays_what_was_missed(live: Live) -> None:
    """A stream reopened with Last-Event-ID gets the events it missed, in order, once."""
    session = await live.session()
    async with open_stream(live) as stream:
        first = (await live.ask(session["id"], "make one")).json()
        seen = await stream.next_of("permission.asked")
    second = (await live.ask(session["id"], "make two")).json()
    await live.client.post(f"/permission/{first['id']}/reply", json={"reply": "once"})
    assert seen.id is not None
    async with open_stream(live, headers={"Last-Event-ID": seen.id}) as stream:
        missed = [await stream.next_of("permission.asked", "permission.replied") for _ in "ab"]
        third = (await live.ask(session["id"], "make three")).json()
        live_one = await stream.next_of("permission.asked", "permission.replied")
    assert [(m.type, m.properties.get("id") or m.properties.get("requestID")) for m in missed] == [
        ("permission.asked", second["id"]),
        ("permission.replied", first["id"]),
    ]
    assert live_one.properties["id"] == third["id"]


async def test_unknown_last_event_id_asks_for_a_resync(live: Live) -> None:
    """An id the server no longer holds gets one server.resync (list pending again)."""
    gone = new_id("evt")
    async with open_stream(live, headers={"Last-Event-ID": gone}) as stream:
        message = await stream.next()
    assert message.type == "server.resync"
    assert message.properties["lastEventID"] == gone
    assert message.id is None


async def test_streams_and_long_polls_outlive_many_heartbeats(live: Live) -> None:
    """No response timeout cuts a stream or a parked ask: both live on, heartbeat after
    heartbeat, until the reply."""
    session = await live.session()
    answers: list[httpx.Response] = []
    with trio.fail_after(10):
        async with open_stream(live) as stream, trio.open_nursery() as nursery:
            nursery.start_soon(_park, live, f"/session/{session['id']}/permission", answers)
            asked = await stream.next_of("permission.asked")
            start = trio.current_time()
            while trio.current_time() - start < 0.3:  # time passes, heartbeat by heartbeat
                await stream.next_of("server.heartbeat")
            await api.reply(asked.properties["id"], "once")
    assert answers[0].status_code == 200
    assert answers[0].json()["reply"] == "once"


async def _park(live: Live, path: str, out: list[httpx.Response], **kwargs: Any) -> None:
    body = {"permission": "bash", "patterns": ["make deploy"]}
    if path.endswith("/permission"):
        out.append(await live.client.post(path, params={"wait": "true"}, json=body))
    else:
        out.append(await live.client.get(path, **kwargs))


async def _until_the_end(stream: Stream) -> None:
    with contextlib.suppress(StopAsyncIteration):
        while True:
            await stream.next()


async def test_shutdown_answers_long_polls_503_and_ends_streams(live: Live) -> None:
    """A graceful shutdown answers parked long-polls with 503 and ends open streams; the
    requests stay pending."""
    session = await live.session()
    answers: list[httpx.Response] = []
    with trio.fail_after(10):
        async with open_stream(live) as stream, trio.open_nursery() as nursery:
            nursery.start_soon(_park, live, f"/session/{session['id']}/permission", answers)
            asked = await stream.next_of("permission.asked")
            nursery.start_soon(_park, live, f"/permission/{asked.properties['id']}/wait", answers)
            await trio.testing.wait_all_tasks_blocked()
            assert len(live.server.held) == 3  # stream, ask, wait
            live.server.shutdown()
            await _until_the_end(stream)  # the stream ends (else fail_after fires)
    assert [a.status_code for a in answers] == [503, 503]
    assert {a.json()["_tag"] for a in answers} == {"ShuttingDownError"}
    assert (await api.get_permission(asked.properties["id"])).pending


async def test_an_event_that_cannot_be_encoded_is_skipped_and_the_stream_goes_on(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    """An event that cannot be encoded (here: nested too deep, which the edge refuses, so
    only a bug could publish it) reaches each stream as one server.skipped naming it, and
    is logged; the streams go on, and so does the server."""
    deep: dict[str, Any] = {}
    for _ in range(5000):
        deep = {"x": deep}
    async with open_stream(live) as stream, open_stream(live, "/global/event") as everything:
        bad = publish("test.deep", deep)
        publish("test.shallow", {"x": 1})
        for reader in (stream, everything):
            skipped = await reader.next_of("server.skipped")
            assert skipped.id is None  # not a resume point
            reason = "cannot be encoded: RecursionError"
            assert skipped.properties == {"eventID": bad.id, "type": "test.deep", "reason": reason}
            assert (await reader.next_of("test.shallow")).properties == {"x": 1}
    assert (await live.client.get("/global/health")).status_code == 200
    assert "RecursionError" in caplog.text

"""The seed scenario over the wire: asks held open, released by replies on either route."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
import trio
import trio.testing

from agentactors.actors import Subscription, api

from .conftest import next_event
from .http_helpers import Live, open_stream, raw_request


async def _held_ask(live: Live, session_id: str, command: str, out: list[httpx.Response]) -> None:
    response = await live.client.post(
        f"/session/{session_id}/permission",
        params={"wait": "true"},
        json={"permission": "bash", "metadata": {"command": command}},
    )
    out.append(response)


async def _reply_once(client: httpx.AsyncClient, request_id: str) -> None:
    response = await client.post(f"/permission/{request_id}/reply", json={"reply": "once"})
    assert response.status_code == 200, response.text


async def _reply_and_collect(live: Live, reply_path: str, body: dict[str, Any]) -> dict[str, Any]:
    """Hold an ask open, reply on ``reply_path`` (``{id}`` and ``{sid}`` filled in), and
    return the asker's final answer."""
    session = await live.session()
    answers: list[httpx.Response] = []
    with trio.fail_after(10):
        async with open_stream(live) as stream, trio.open_nursery() as nursery:
            nursery.start_soon(_held_ask, live, session["id"], "git push", answers)
            asked = await stream.next_of("permission.asked")
            assert answers == []  # still held
            path = reply_path.format(id=asked.properties["id"], sid=session["id"])
            reply = await live.client.post(path, json=body)
            assert (reply.status_code, reply.json()) == (200, True)
            replied = await stream.next_of("permission.replied")
            assert replied.properties["requestID"] == asked.properties["id"]
    [answer] = answers
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


async def test_wait_released_by_opencode_reply(live: Live) -> None:
    """A ?wait=true ask is released by POST /permission/{id}/reply, decided by the user."""
    final = await _reply_and_collect(live, "/permission/{id}/reply", {"reply": "once"})
    assert (final["state"], final["reply"], final["effect"]) == ("replied", "once", "ask")
    assert final["decidedBy"] == {"kind": "user", "address": "127.0.0.1"}
    assert final["time"]["decided"] >= final["time"]["created"]


async def test_wait_released_by_deprecated_session_route(live: Live) -> None:
    """A ?wait=true ask is released by the deprecated session route, reject with feedback."""
    body = {"response": "reject", "message": "use git status"}
    final = await _reply_and_collect(live, "/session/{sid}/permissions/{id}", body)
    assert (final["state"], final["reply"], final["message"]) == (
        "replied",
        "reject",
        "use git status",
    )


async def test_reply_for_another_sessions_request_is_404_and_leaves_it_pending(
    live: Live,
) -> None:
    """The deprecated route refuses a request of another session: 404, still pending."""
    mine, other = await live.session(), await live.session()
    asked = (await live.ask(mine["id"], "make deploy")).json()
    path = f"/session/{other['id']}/permissions/{asked['id']}"
    response = await live.client.post(path, json={"response": "once"})
    assert response.status_code == 404
    assert response.json()["_tag"] == "PermissionNotFoundError"
    state = (await live.client.get(f"/permission/{asked['id']}")).json()
    assert state["state"] == "pending"
    assert [r["id"] for r in (await live.client.get("/permission")).json()] == [asked["id"]]


async def test_second_reply_is_409_with_the_final_state(live: Live) -> None:
    """A reply to a decided request is a 409 carrying its final state."""
    session = await live.session()
    asked = (await live.ask(session["id"], "make deploy")).json()
    first = await live.client.post(f"/permission/{asked['id']}/reply", json={"reply": "once"})
    again = await live.client.post(f"/permission/{asked['id']}/reply", json={"reply": "reject"})
    assert first.status_code == 200
    assert again.status_code == 409
    body = again.json()
    assert body["_tag"] == "PermissionAlreadyDecidedError"
    assert (body["request"]["state"], body["request"]["reply"]) == ("replied", "once")


async def test_ask_answers_at_once_without_wait(live: Live) -> None:
    """Without ?wait the ask answers with the pending request and its effect."""
    session = await live.session()
    response = await live.ask(session["id"], "make deploy", always=["make *"])
    body = response.json()
    assert response.status_code == 200
    assert (body["state"], body["effect"], body["patterns"]) == ("pending", "ask", ["make deploy"])
    assert body["id"].startswith("per_")
    assert body["always"] == ["make *"]


async def test_long_poll_times_out_pending_then_returns_the_decision(live: Live) -> None:
    """/wait answers 200 with the pending state after ?timeout=, the final one once decided."""
    session = await live.session()
    asked = (await live.ask(session["id"], "make deploy")).json()
    waited = await live.client.get(f"/permission/{asked['id']}/wait", params={"timeout": 0.01})
    assert (waited.status_code, waited.json()["state"]) == (200, "pending")
    answers: list[httpx.Response] = []

    async def wait() -> None:
        answers.append(await live.client.get(f"/permission/{asked['id']}/wait"))

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(wait)
            await api.reply(asked["id"], "always")
    assert answers[0].json()["reply"] == "always"


async def test_client_going_away_leaves_the_request_pending(live: Live) -> None:
    """A waiting client that disconnects cancels its wait only: the request stays pending."""
    session = await live.session()
    with trio.fail_after(10):
        async with open_stream(live) as stream, trio.open_nursery() as nursery:
            nursery.start_soon(_held_ask, live, session["id"], "make deploy", [])
            asked = await stream.next_of("permission.asked")
            await trio.testing.wait_all_tasks_blocked()
            assert len(live.server.held) == 2  # the stream and the ask
            nursery.cancel_scope.cancel()
        await trio.testing.wait_all_tasks_blocked()  # the server sees the disconnect
    assert len(live.server.held) == 0
    state = await api.get_permission(asked.properties["id"])
    assert state.pending


@pytest.mark.slow
async def test_thousand_parked_waits_are_all_released(live: Live, events: Subscription) -> None:
    """1,000 concurrent ?wait=true asks park (no thread each) and are all released by
    1,000 replies over HTTP."""
    session = await live.session()
    count = 1000
    answers: list[tuple[int, Any]] = []
    threads = threading.active_count()
    ask_path = f"/session/{session['id']}/permission?wait=true"

    async def ask(index: int) -> None:
        body = {"permission": "bash", "metadata": {"command": f"job {index}"}}
        answers.append(await raw_request(live, "POST", ask_path, body))

    async def reply(request_id: str) -> None:
        answer = await raw_request(
            live, "POST", f"/permission/{request_id}/reply", {"reply": "once"}
        )
        assert answer == (200, True)

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for index in range(count):
                nursery.start_soon(ask, index)
            asked = [await next_event(events, "permission.asked") for _ in range(count)]
            assert answers == []
            assert threading.active_count() == threads  # no thread per parked request
            for event in asked:
                nursery.start_soon(reply, event.properties["id"])
    assert len(answers) == count
    assert {status for status, _ in answers} == {200}
    assert {body["reply"] for _, body in answers} == {"once"}
    assert len({body["id"] for _, body in answers}) == count


async def test_abort_ends_a_parked_wait(live: Live) -> None:
    """POST /session/{id}/abort releases a held ask as aborted."""
    session = await live.session()
    answers: list[httpx.Response] = []
    with trio.fail_after(10):
        async with open_stream(live) as stream, trio.open_nursery() as nursery:
            nursery.start_soon(_held_ask, live, session["id"], "make deploy", answers)
            await stream.next_of("permission.asked")
            abort = await live.client.post(f"/session/{session['id']}/abort")
            assert (abort.status_code, abort.json()) == (200, True)
    final = answers[0].json()
    assert (final["state"], final["decidedBy"]["kind"]) == ("aborted", "abort")

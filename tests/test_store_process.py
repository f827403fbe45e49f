"""A real server process killed with SIGKILL loses nothing.

``python -m agentactors serve --port 0 --data-dir DIR`` in a subprocess, driven over HTTP
with httpx: 100 pending requests and a few decisions and saved approvals, then
``kill -9``; a second process on the same data dir has every pending request with its
data, lets waiters re-attach by id and releases them on replies, still applies the saved
approvals, and its audit log holds every decision made before the kill.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from .http_helpers import serve_process


async def _json(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _ask(client: httpx.AsyncClient, session_id: str, command: str, **body: Any) -> Any:
    body = {"permission": "bash", "metadata": {"command": command}, **body}
    return await _json(await client.post(f"/session/{session_id}/permission", json=body))


async def _reply(client: httpx.AsyncClient, request_id: str, reply: str, **body: Any) -> None:
    answer = await client.post(f"/permission/{request_id}/reply", json={"reply": reply, **body})
    assert await _json(answer) is True


@pytest.mark.slow
async def test_kill_9_loses_no_pending_request_decision_or_approval(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with trio.fail_after(120):
        async with serve_process(tmp_path, data_dir) as (process, url):
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                one, two, three = [
                    await _json(await client.post("/session", json={})) for _ in "123"
                ]
                # decisions (and two saved approvals) before the kill
                push = await _ask(client, one["id"], "git push origin", always=["git push *"])
                await _reply(client, push["id"], "always")
                tests = await _ask(client, two["id"], "npm test")
                await _reply(client, tests["id"], "always", scope="project")
                clean = await _ask(client, three["id"], "make clean")
                await _reply(client, clean["id"], "once")
                remove = await _ask(client, three["id"], "rm -rf build")
                await _reply(client, remove["id"], "reject", message="not now")
                decided = {r["id"] for r in (push, tests, clean, remove)}
                # 100 pending requests, each answered only once it is stored
                pending: dict[str, Any] = {}
                for i in range(100):
                    session = one if i % 2 else two
                    asked = await _ask(client, session["id"], f"make target-{i}", timeout=3600)
                    assert asked["state"] == "pending"
                    pending[asked["id"]] = asked
                saved_before = await _json(await client.get("/permission/saved"))
            process.kill()  # SIGKILL: no shutdown code runs
            assert await process.wait() == -signal.SIGKILL

        async with serve_process(tmp_path, data_dir) as (process, url):
            async with (
                httpx.AsyncClient(base_url=url, timeout=30) as client,
                httpx.AsyncClient(base_url=url, timeout=None) as waiting,
            ):
                listed = await _json(await client.get("/permission"))
                assert {r["id"] for r in listed} == set(pending)
                for request_id, before in pending.items():  # every field, deadline included
                    assert await _json(await client.get(f"/permission/{request_id}")) == before

                saved = await _json(await client.get("/permission/saved"))
                assert sorted(saved, key=lambda a: a["id"]) == sorted(
                    saved_before, key=lambda a: a["id"]
                )
                assert {(a["pattern"], a["scope"]) for a in saved} == {
                    ("git push *", "session"),
                    ("npm test *", "project"),
                }
                assert all(a["savedBy"] == {"kind": "user", "address": "127.0.0.1"} for a in saved)
                again = await _ask(client, one["id"], "git push upstream")
                assert (again["effect"], again["decidedBy"]["kind"]) == ("allow", "approval")
                elsewhere = await _ask(client, three["id"], "npm test")  # project scope
                assert elsewhere["effect"] == "allow"

                log = await _json(await client.get("/permission/history", params={"limit": 1000}))
                by_id = {r["id"]: r for r in log}
                assert decided <= set(by_id)
                assert by_id[remove["id"]]["message"] == "not now"
                for request_id in decided:
                    assert by_id[request_id]["decidedBy"] == {
                        "kind": "user",
                        "address": "127.0.0.1",
                    }
                assert set(pending) <= set(by_id)

                # waiters re-attach by the ids they had; replies release them
                released: dict[str, Any] = {}

                async def wait(request_id: str) -> None:
                    response = await waiting.get(f"/permission/{request_id}/wait")
                    released[request_id] = await _json(response)

                async with trio.open_nursery() as nursery:
                    for request_id in pending:
                        nursery.start_soon(wait, request_id)
                    for request_id in pending:
                        await _reply(client, request_id, "once")
                assert set(released) == set(pending)
                assert {r["state"] for r in released.values()} == {"replied"}
                assert {r["reply"] for r in released.values()} == {"once"}
            process.send_signal(signal.SIGTERM)
            assert await process.wait() == 0

"""OpenCode for real: ``opencode serve`` (npm ``opencode-ai``, pinned in package.json here)
with our plugin installed by ``agentactors install opencode`` in a temporary project, a
fake OpenAI-compatible model on loopback that asks for ``bash`` with a command, and
``python -m agentactors serve``.

- The ask reaches our server (event and ``GET /permission``), carrying OpenCode's ids.
- Our ``once`` lets the command run (its file appears).
- Our ``reject`` with a message stops it; the message reaches the model as the tool's
  result.
- Our ``always`` runs it and saves our approval for OpenCode's ``always`` patterns.
- Answered in OpenCode first, our request is withdrawn.
- Both servers have passwords: the plugin sends ours, and OpenCode's to OpenCode.
- With our server gone, OpenCode's own prompt stays pending and nothing runs.
- The TUI (``opencode`` in a pseudo-terminal, no listener: ``serverUrl`` is a
  placeholder) gets our ``once`` through the one server in its process.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attrs
import httpx
import pytest
import trio

from ..http_helpers import Stream, open_stream, serve_process
from .agent_helpers import (
    Output,
    Server,
    agent_binary,
    basic,
    free_port,
    isolated_env,
    needs_agents,
    running,
    terminal,
)
from .fake_models import FakeModel, chat_completions

pytestmark = needs_agents

PASSWORD = "e2e-secret"  # our server's (the plugin sends it)
OPENCODE_PASSWORD = "opencode-secret"  # opencode serve's (the plugin replies with it)
OURS_AUTH = httpx.BasicAuth("agentactors", PASSWORD)
OPENCODE_AUTH = httpx.BasicAuth("opencode", OPENCODE_PASSWORD)
OURS_HEADERS = {"Authorization": basic("agentactors", PASSWORD)}
OPENCODE_HEADERS = {"Authorization": basic("opencode", OPENCODE_PASSWORD)}
START = 180  # seconds: the first start of an OpenCode instance installs its plugin kit
TURN = 120  # seconds: one prompt, from sending to the session's idle


def _opencode_config(model_url: str) -> dict[str, Any]:
    return {
        "$schema": "https://opencode.ai/config.json",
        "provider": {
            "fake": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Fake",
                "options": {"baseURL": model_url, "apiKey": "unused"},
                "models": {"fake-model": {"name": "Fake", "tool_call": True}},
            }
        },
        "model": "fake/fake-model",
        "small_model": "fake/fake-model",
        "share": "disabled",
        "autoupdate": False,
        "permission": {"bash": "ask"},
    }


@attrs.frozen
class OpenCode:
    """A running ``opencode serve`` on a project, its HTTP client and its output."""

    url: str
    project: Path
    http: httpx.AsyncClient
    output: Output

    async def session(self) -> str:
        response = await self.http.post("/session", json={"title": "e2e"})
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    async def prompt(self, session: str, command: str) -> None:
        body = {
            "parts": [{"type": "text", "text": f"run: {command}"}],
            "model": {"providerID": "fake", "modelID": "fake-model"},
        }
        response = await self.http.post(f"/session/{session}/prompt_async", json=body)
        assert response.status_code in (200, 204), response.text

    async def pending(self) -> list[dict[str, Any]]:
        response = await self.http.get("/permission")
        assert response.status_code == 200, response.text
        return list(response.json())


async def _idle(events: Stream, session: str) -> None:
    """Until OpenCode says the session's turn is over."""
    while True:
        message = await events.next_of("session.idle", "session.status", timeout=TURN)
        properties = message.properties
        if properties.get("sessionID") != session:
            continue
        if message.type == "session.idle" or properties["status"]["type"] == "idle":
            return


async def _asked_here(events: Stream) -> dict[str, Any]:
    return (await events.next_of("permission.asked", timeout=TURN)).properties


@pytest.fixture
def model() -> Iterator[FakeModel]:
    with chat_completions() as fake:
        yield fake


@pytest.fixture
async def project(tmp_path: Path, model: FakeModel) -> Path:
    """A project with OpenCode's config and our plugin, installed by the real CLI."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "opencode.json").write_text(json.dumps(_opencode_config(model.url)))
    command = [sys.executable, "-m", "agentactors", "install", "opencode", "--project"]
    result = await trio.run_process(command, cwd=project, capture_stdout=True, check=False)
    assert result.returncode == 0, result
    assert (project / ".opencode" / "plugins" / "agentactors.js").exists()
    return project


@pytest.fixture
async def ours(tmp_path: Path, project: Path) -> AsyncIterator[tuple[trio.Process, str]]:
    password = {"AGENTACTORS_SERVER_PASSWORD": PASSWORD}
    async with serve_process(project, tmp_path / "data", env=password) as served:
        yield served


def _env(home: Path, ours: str, **extra: str) -> dict[str, str]:
    return isolated_env(
        home,
        AGENTACTORS_URL=ours,
        AGENTACTORS_SERVER_PASSWORD=PASSWORD,
        **extra,
        AGENTACTORS_OPENCODE_DEBUG="1",
        OPENCODE_DISABLE_MODELS_FETCH="1",
        OPENCODE_DISABLE_AUTOUPDATE="1",
    )


@pytest.fixture
async def opencode(
    tmp_path: Path, project: Path, ours: tuple[trio.Process, str]
) -> AsyncIterator[OpenCode]:
    port = free_port()
    env = _env(tmp_path / "home", ours[1], OPENCODE_SERVER_PASSWORD=OPENCODE_PASSWORD)
    command = [agent_binary("opencode"), "serve", "--hostname", "127.0.0.1"]
    command += ["--port", str(port)]
    async with running(command, cwd=project, env=env) as (_, output):
        await output.wait_for("opencode server listening on", timeout=60)
        url = f"http://127.0.0.1:{port}"
        headers = {"x-opencode-directory": quote(str(project), safe="")}
        async with httpx.AsyncClient(
            base_url=url, headers=headers, auth=OPENCODE_AUTH, timeout=30
        ) as http:
            yield OpenCode(url, project, http, output)


async def test_once_runs_reject_stops_and_no_server_leaves_the_prompt(
    opencode: OpenCode,
    ours: tuple[trio.Process, str],
    model: FakeModel,
    project: Path,
) -> None:
    server, our_url = ours
    directory = quote(str(project), safe="")
    async with (
        httpx.AsyncClient(base_url=our_url, auth=OURS_AUTH, timeout=30) as http,
        open_stream(Server(our_url), f"/event?directory={directory}", OURS_HEADERS) as our_events,
        open_stream(
            Server(opencode.url), f"/event?directory={directory}", OPENCODE_HEADERS
        ) as oc_events,
    ):
        try:
            # once: the ask shows up here with OpenCode's ids, our reply lets it run
            session = await opencode.session()
            await opencode.prompt(session, "touch once.txt")
            with trio.fail_after(START):
                asked = await _asked_here(our_events)
            assert asked["permission"] == "bash"
            assert asked["patterns"] == ["touch once.txt"]
            assert asked["metadata"]["command"] == "touch once.txt"
            oc_request = asked["metadata"]["opencode"]["requestID"]
            assert oc_request.startswith("per_")
            assert asked["metadata"]["opencode"]["sessionID"] == session
            listed = (await http.get("/permission", params={"directory": str(project)})).json()
            assert [request["id"] for request in listed] == [asked["id"]]
            assert [request["id"] for request in await opencode.pending()] == [oc_request]
            reply = await http.post(f"/permission/{asked['id']}/reply", json={"reply": "once"})
            assert reply.status_code == 200, reply.text
            await _idle(oc_events, session)
            assert (project / "once.txt").exists()
            assert await opencode.pending() == []

            # reject with a message: nothing runs, the model reads our message
            session = await opencode.session()
            await opencode.prompt(session, "touch rejected.txt")
            asked = await _asked_here(our_events)
            message = "not in this repository, use the staging copy"
            body = {"reply": "reject", "message": message}
            reply = await http.post(f"/permission/{asked['id']}/reply", json=body)
            assert reply.status_code == 200, reply.text
            await _idle(oc_events, session)
            assert not (project / "rejected.txt").exists()
            assert any(message in result for result in model.tool_results())
            assert await opencode.pending() == []

            # always: it runs, and our approval is saved for OpenCode's always patterns
            session = await opencode.session()
            await opencode.prompt(session, "touch always.txt")
            asked = await _asked_here(our_events)
            reply = await http.post(f"/permission/{asked['id']}/reply", json={"reply": "always"})
            assert reply.status_code == 200, reply.text
            await _idle(oc_events, session)
            assert (project / "always.txt").exists()
            saved = (await http.get("/permission/saved")).json()
            assert [(a["permission"], a["pattern"]) for a in saved] == [("bash", "touch *")]

            # answered in OpenCode first: our request is withdrawn
            session = await opencode.session()
            await opencode.prompt(session, "mkdir local")
            asked = await _asked_here(our_events)
            oc_request = asked["metadata"]["opencode"]["requestID"]
            body = {"reply": "reject", "message": "no"}
            reply = await opencode.http.post(f"/permission/{oc_request}/reply", json=body)
            assert reply.status_code == 200, reply.text
            replied = (await our_events.next_of("permission.replied", timeout=TURN)).properties
            assert replied["requestID"] == asked["id"]
            assert (replied["reply"], replied["decidedBy"]["kind"]) == ("reject", "asker")
            await _idle(oc_events, session)
            assert not (project / "local").exists()
        except BaseException:
            print(opencode.output.tail())
            raise

        # our server gone: OpenCode's own prompt stays, nothing runs
        server.kill()
        await server.wait()
        seen = opencode.output.mark()
        session = await opencode.session()
        await opencode.prompt(session, "mkdir unreached")  # not touch: OpenCode allows that now
        oc_asked = await _asked_here(oc_events)
        await opencode.output.wait_for("[agentactors-opencode] bash:", TURN, since=seen)
        assert [request["id"] for request in await opencode.pending()] == [oc_asked["id"]]
        assert not (project / "unreached").exists()
        # the person answers in OpenCode
        reply = await opencode.http.post(
            f"/permission/{oc_asked['id']}/reply", json={"reply": "reject"}
        )
        assert reply.status_code == 200, reply.text
        await _idle(oc_events, session)
        assert not (project / "unreached").exists()


async def test_the_tui_without_a_listener_gets_our_answer(
    tmp_path: Path, project: Path, ours: tuple[trio.Process, str], model: FakeModel
) -> None:
    our_url = ours[1]
    directory = quote(str(project), safe="")
    tui = [agent_binary("opencode"), "--prompt", "run: touch tui.txt"]
    tui += ["--model", "fake/fake-model"]
    async with (
        httpx.AsyncClient(base_url=our_url, auth=OURS_AUTH, timeout=30) as http,
        open_stream(Server(our_url), f"/event?directory={directory}", OURS_HEADERS) as our_events,
        terminal(tui, cwd=project, env=_env(tmp_path / "home", our_url)) as screen,
    ):
        try:
            await screen.wait_for("run: touch tui.txt", timeout=START)
            await screen.type("\r")
            with trio.fail_after(START):
                asked = await _asked_here(our_events)
            assert asked["patterns"] == ["touch tui.txt"]
            reply = await http.post(f"/permission/{asked['id']}/reply", json={"reply": "once"})
            assert reply.status_code == 200, reply.text
            results = await trio.to_thread.run_sync(model.wait_tool_results, 1, TURN)
            assert len(results) == 1, results
            assert (project / "tui.txt").exists()
        except BaseException:
            print(screen.text[-3000:])
            raise

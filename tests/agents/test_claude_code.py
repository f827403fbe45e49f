"""Claude Code for real: ``claude -p`` (npm ``@anthropic-ai/claude-code``, pinned in
package.json here) with ``ANTHROPIC_BASE_URL`` at a fake Anthropic messages API on
loopback that asks for ``Bash`` with a command, its hooks written by
``agentactors install claude-code --project --command``, and ``python -m agentactors
serve``.

- The ask reaches our server as ``bash`` with the command.
- Our ``once`` lets the command run (its file appears).
- Our ``reject`` with a message stops it; the message reaches the model.

Skipped where this build has no ``agentactors hook`` command.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import attrs
import httpx
import pytest
import trio

from ..http_helpers import Stream, open_stream, serve_process
from .agent_helpers import agent_binary, isolated_env, needs_agents, running
from .fake_models import FakeModel, anthropic_messages

pytestmark = [
    needs_agents,
    pytest.mark.skipif(
        importlib.util.find_spec("agentactors._cli_hook") is None,
        reason="this build has no `agentactors hook claude-code` command",
    ),
]

TURN = 120  # seconds: one `claude -p` run


@attrs.frozen
class _Server:
    url: str


@pytest.fixture
def model() -> Iterator[FakeModel]:
    with anthropic_messages() as fake:
        yield fake


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    return project


@pytest.fixture
async def ours(tmp_path: Path, project: Path) -> AsyncIterator[str]:
    async with serve_process(project, tmp_path / "data") as (_, url):
        yield url


async def _claude(
    project: Path, env: dict[str, str], command: str, *, events: Stream,
    http: httpx.AsyncClient, answer: dict[str, str],
) -> str:  # fmt: skip
    """Run ``claude -p`` asking for ``command``; answer our ask with ``answer``; its output."""
    claude: list[str | Path] = [agent_binary("claude"), "-p", f"run: {command}"]
    claude += ["--output-format", "json"]
    async with running(claude, cwd=project, env=env) as (process, output):
        try:
            with trio.fail_after(TURN):
                asked = (await events.next_of("permission.asked", timeout=TURN)).properties
                assert asked["permission"] == "bash"
                assert command in asked["patterns"], asked
                reply = await http.post(f"/permission/{asked['id']}/reply", json=answer)
                assert reply.status_code == 200, reply.text
                await process.wait()
        except BaseException:
            print(output.tail())
            raise
        assert process.returncode == 0, output.tail()
        return "\n".join(output.lines)


async def test_once_runs_and_reject_stops(
    tmp_path: Path, project: Path, ours: str, model: FakeModel
) -> None:
    env = isolated_env(
        tmp_path / "home",
        ANTHROPIC_BASE_URL=model.root,
        ANTHROPIC_API_KEY="sk-ant-fake",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
        AGENTACTORS_URL=ours,
    )
    (tmp_path / "home").mkdir()
    install = [sys.executable, "-m", "agentactors", "install", "claude-code"]
    install += ["--project", "--command", "--url", ours]
    result = await trio.run_process(
        install, cwd=project, env=env, capture_stdout=True, capture_stderr=True, check=False
    )
    assert result.returncode == 0, result
    directory = quote(str(project), safe="")
    async with (
        httpx.AsyncClient(base_url=ours, timeout=30) as http,
        open_stream(_Server(ours), f"/event?directory={directory}") as events,
    ):
        once = {"reply": "once"}
        await _claude(project, env, "touch cc-once.txt", events=events, http=http, answer=once)
        assert (project / "cc-once.txt").exists()

        message = "not here, use the staging copy"
        reject = {"reply": "reject", "message": message}
        command = "touch cc-rejected.txt"
        await _claude(project, env, command, events=events, http=http, answer=reject)
        assert not (project / "cc-rejected.txt").exists()
        assert any(message in result for result in model.tool_results()), model.tool_results()

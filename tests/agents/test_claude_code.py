"""Claude Code for real: ``claude -p`` (npm ``@anthropic-ai/claude-code``, pinned in
package.json here) with ``ANTHROPIC_BASE_URL`` at a fake Anthropic messages API on
loopback that asks for ``Bash`` with a command, its hooks written by
``agentactors install claude-code --project --command``, and ``python -m agentactors
serve``.

- The ask reaches our server as ``bash`` with the command.
- Our ``once`` lets the command run (its file appears).
- Our ``reject`` with a message stops it; the message reaches the model.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from ..http_helpers import open_stream
from .agent_helpers import (
    Server,
    agent_binary,
    agentactors_cli,
    isolated_env,
    needs_agents,
    one_turn,
)
from .fake_models import FakeModel, anthropic_messages

pytestmark = needs_agents


@pytest.fixture
def model() -> Iterator[FakeModel]:
    with anthropic_messages() as fake:
        yield fake


async def test_once_runs_and_reject_stops(
    tmp_path: Path, project: Path, ours: str, model: FakeModel
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = isolated_env(
        home,
        ANTHROPIC_BASE_URL=model.root,
        ANTHROPIC_API_KEY="sk-ant-fake",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
        AGENTACTORS_URL=ours,
    )
    await agentactors_cli(
        project, env, "install", "claude-code", "--project", "--command", "--url", ours
    )
    directory = quote(str(project), safe="")
    async with (
        httpx.AsyncClient(base_url=ours, timeout=30) as http,
        open_stream(Server(ours), f"/event?directory={directory}") as events,
    ):
        for command, answer in [
            ("touch cc-once.txt", {"reply": "once"}),
            ("touch cc-rejected.txt", {"reply": "reject", "message": "not here, use staging"}),
        ]:
            claude = [agent_binary("claude"), "-p", f"run: {command}", "--output-format", "json"]
            await one_turn(
                claude, cwd=project, env=env, command=command, events=events, http=http,
                answer=answer,
            )  # fmt: skip
        assert (project / "cc-once.txt").exists()
        assert not (project / "cc-rejected.txt").exists()
        results = model.tool_results()
        assert any("not here, use staging" in result for result in results), results

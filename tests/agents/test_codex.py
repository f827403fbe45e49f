"""Codex for real: ``codex exec`` (npm ``@openai/codex``, pinned in package.json here)
with a model provider at a fake OpenAI responses API on loopback that asks for its shell
tool with a command, its hooks written by ``agentactors install codex`` (the user's
``~/.codex/hooks.json``, in a temporary home), and ``python -m agentactors serve``.

Codex runs a new hook only once the person trusts it in ``/hooks``; a headless test has
no person, so it runs ``codex exec --dangerously-bypass-hook-trust`` (Codex's switch for
automation that vetted its hooks).  Codex's ``PreToolUse`` hook can only deny: our
``once`` gives no decision and the command runs in Codex's workspace-write sandbox.

- The ask reaches our server as ``bash`` with the command.
- Our ``once`` lets the command run (its file appears).
- Our ``reject`` with a message blocks it; the message reaches the model.
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
from .fake_models import FakeModel, openai_responses

pytestmark = needs_agents

CONFIG = """\
model = "fake-model"
model_provider = "fake"

[model_providers.fake]
name = "Fake"
base_url = "{url}"
wire_api = "responses"
env_key = "FAKE_MODEL_API_KEY"
"""


@pytest.fixture
def model() -> Iterator[FakeModel]:
    with openai_responses() as fake:
        yield fake


async def test_once_runs_and_reject_blocks(
    tmp_path: Path, project: Path, ours: str, model: FakeModel
) -> None:
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    (home / ".codex" / "config.toml").write_text(CONFIG.format(url=model.url))
    env = isolated_env(home, FAKE_MODEL_API_KEY="unused", AGENTACTORS_URL=ours)
    env.pop("CODEX_HOME", None)
    await agentactors_cli(project, env, "install", "codex", "--user", "--url", ours)
    assert (home / ".codex" / "hooks.json").exists()
    directory = quote(str(project), safe="")
    async with (
        httpx.AsyncClient(base_url=ours, timeout=30) as http,
        open_stream(Server(ours), f"/event?directory={directory}") as events,
    ):
        for command, answer in [
            ("touch codex-once.txt", {"reply": "once"}),
            ("touch codex-rejected.txt", {"reply": "reject", "message": "not here, use staging"}),
        ]:
            codex = [agent_binary("codex"), "exec", "--dangerously-bypass-hook-trust"]
            codex += ["--skip-git-repo-check", "--sandbox", "workspace-write", f"run: {command}"]
            await one_turn(
                codex, cwd=project, env=env, command=command, events=events, http=http,
                answer=answer,
            )  # fmt: skip
        assert (project / "codex-once.txt").exists()
        assert not (project / "codex-rejected.txt").exists()
        results = model.tool_results()
        assert any("not here, use staging" in result for result in results), results

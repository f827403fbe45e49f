"""``agentactors install opencode``: the plugin file written into OpenCode's plugins
directory through the real command line (a subprocess): the user's by default, the
project's with --project, the server's URL from --url, idempotent, ``--dry-run`` writing
nothing, an older copy of ours replaced, a file that is not ours left alone.  The plugin
itself runs in OpenCode in tests/agents/test_opencode.py (make test-agents)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
import trio

from agentactors.integrations.opencode import MARK_LINE, PLUGIN_NAME, plugin_source


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    return project


async def _install(cwd: Path, *args: str) -> tuple[int, str]:
    """``install opencode ARGS`` in ``cwd``, with a home and config directory of its own."""
    command = [sys.executable, "-m", "agentactors", "install", "opencode", *args]
    env = {key: value for key, value in os.environ.items() if key != "AGENTACTORS_URL"}
    env |= {"HOME": str(cwd.parent / "home"), "XDG_CONFIG_HOME": str(cwd.parent / "config")}
    with trio.fail_after(30):
        result = await trio.run_process(
            command, cwd=cwd, env=env, capture_stdout=True, capture_stderr=True, check=False
        )
    return result.returncode, (result.stdout + result.stderr).decode()


def _in_project(project: Path) -> Path:
    return project / ".opencode" / "plugins" / PLUGIN_NAME


async def test_installs_for_the_user_then_changes_nothing(project: Path) -> None:
    installed = project.parent / "config" / "opencode" / "plugins" / PLUGIN_NAME
    status, out = await _install(project)
    assert status == 0, out
    assert f"{installed}: created" in out
    assert "AGENTACTORS_URL" in out  # says how the plugin finds the server
    assert installed.read_text() == plugin_source()
    status, out = await _install(project, "--user")
    assert status == 0, out
    assert f"{installed}: already set up, nothing to change" in out
    assert not (project / ".opencode").exists()


async def test_project_scope_and_the_servers_url(project: Path) -> None:
    status, out = await _install(project, "--project", "--url", "http://127.0.0.1:5000")
    assert status == 0, out
    text = _in_project(project).read_text()
    assert text == plugin_source("http://127.0.0.1:5000")
    assert 'const DEFAULT_URL = "http://127.0.0.1:5000"' in text
    status, out = await _install(project, "--project")
    assert status == 0, out
    assert "updated" in out  # back to the default URL
    assert _in_project(project).read_text() == plugin_source()


async def test_dry_run_writes_nothing(project: Path) -> None:
    status, out = await _install(project, "--project", "--dry-run")
    assert status == 0, out
    assert "(dry run: nothing written)" in out
    assert f"+{MARK_LINE}" in out  # the diff of the file it would create
    assert not (project / ".opencode").exists()


async def test_an_older_copy_of_ours_is_replaced(project: Path) -> None:
    ours = _in_project(project)
    ours.parent.mkdir(parents=True)
    ours.write_text(MARK_LINE + " (an older version)\nexport const AgentActors = 1\n")
    status, out = await _install(project, "--project")
    assert status == 0, out
    assert f"{ours}: updated" in out
    assert ours.read_text() == plugin_source()


async def test_a_file_that_is_not_ours_is_left_alone(project: Path) -> None:
    theirs = _in_project(project)
    theirs.parent.mkdir(parents=True)
    theirs.write_text("export const Theirs = async () => ({})\n")
    status, out = await _install(project, "--project")
    assert status == 2
    assert "is not the agentactors plugin: left as it is" in out
    assert theirs.read_text().startswith("export const Theirs")


async def test_hooks_are_refused(project: Path) -> None:
    status, out = await _install(project, "--command")
    assert status == 2
    assert "opencode takes a plugin, not a hook" in out


@pytest.mark.parametrize(
    "args",
    [
        ("--fail", "closed"),
        ("--url", "http://127.0.0.1:4096/\\"),
        ("--url", 'http://127.0.0.1:4096/"+x+"'),
        ("--url", "not a url"),
    ],
)
async def test_what_the_plugin_cannot_carry_is_refused(
    project: Path, args: tuple[str, ...]
) -> None:
    """--fail closed (the plugin has no fail mode) and a URL that would break the
    plugin's source are refused: exit 2, nothing written."""
    status, out = await _install(project, "--project", *args)
    assert status == 2, out
    assert "nothing was written" in out
    assert not (project / ".opencode").exists()


def test_the_plugin_exports_one_function() -> None:
    """OpenCode calls every function a plugin module exports as a plugin: one export,
    the plugin; and no imports (it is loaded as a plain file, no dependencies)."""
    source = plugin_source()
    assert source.startswith(MARK_LINE)
    assert re.findall(r"^export\s.*$", source, re.MULTILINE) == [
        "export const AgentActors = async (ctx) => {"
    ]
    assert not re.findall(r"^\s*import\s", source, re.MULTILINE)

"""``agentactors install AGENT``: our hooks merged into the agent's settings without
touching anyone else's, idempotent, ``--dry-run`` writing nothing, and a settings file
that is not JSON left alone."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from agentactors.__main__ import main

THEIRS: dict[str, Any] = {
    "PreToolUse": [
        {"matcher": "Bash", "hooks": [{"type": "command", "command": "~/bin/audit.sh"}]}
    ],
    "Stop": [{"hooks": [{"type": "command", "command": "say done"}]}],
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home and a project (the current directory) of their own."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    monkeypatch.delenv("AGENTACTORS_URL", raising=False)
    return tmp_path / "home"


def _install(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["install", *args])
    out, err = capsys.readouterr()
    return status, out, err


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_claude_code_merges_into_existing_hooks(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Other keys and other hooks stay; ours are added: an HTTP hook for PreToolUse and
    PermissionRequest with the password header from the environment."""
    settings = home / ".claude" / "settings.json"
    _write(settings, {"model": "opus", "hooks": THEIRS, "permissions": {"allow": ["Read"]}})
    status, out, _ = _install(capsys, "claude-code")
    assert status == 0
    assert "updated" in out
    data = json.loads(settings.read_text())
    assert data["model"] == "opus"
    assert data["permissions"] == {"allow": ["Read"]}
    assert data["hooks"]["Stop"] == THEIRS["Stop"]
    pre = data["hooks"]["PreToolUse"]
    assert pre[0] == THEIRS["PreToolUse"][0]
    ours = pre[1]["hooks"][0]
    assert ours["type"] == "http"
    assert ours["url"] == "http://127.0.0.1:4096/hook/claude-code"
    assert ours["headers"] == {"Authorization": "Bearer $AGENTACTORS_SERVER_PASSWORD"}
    assert ours["allowedEnvVars"] == ["AGENTACTORS_SERVER_PASSWORD"]
    assert ours["timeout"] == 600
    assert "Bash" in pre[1]["matcher"]
    assert data["hooks"]["PermissionRequest"] == [{"matcher": "*", "hooks": [ours]}]


def test_installing_twice_changes_nothing(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The second install finds everything set up and leaves the file as it is."""
    _write(home / ".claude" / "settings.json", {"hooks": THEIRS})
    _install(capsys, "claude-code")
    first = (home / ".claude" / "settings.json").read_text()
    status, out, _ = _install(capsys, "claude-code")
    assert (status, "nothing to change" in out) == (0, True)
    assert (home / ".claude" / "settings.json").read_text() == first


def test_switching_to_a_command_hook_replaces_ours(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--command after --http: our HTTP hook goes, the command hook takes its place,
    theirs stay; the command runs this Python with the given --url and --fail."""
    _write(home / ".claude" / "settings.json", {"hooks": THEIRS})
    _install(capsys, "claude-code")
    _install(
        capsys, "claude-code", "--command", "--url", "http://127.0.0.1:5000", "--fail", "closed"
    )
    data = json.loads((home / ".claude" / "settings.json").read_text())
    pre = data["hooks"]["PreToolUse"]
    assert len(pre) == 2
    assert pre[0] == THEIRS["PreToolUse"][0]
    command = pre[1]["hooks"][0]["command"]
    assert command.startswith(sys.executable)
    assert command.endswith(
        "-m agentactors hook claude-code --url http://127.0.0.1:5000 --fail closed"
    )
    assert len(data["hooks"]["PermissionRequest"]) == 1


def test_project_scope(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--project writes the project's .claude/settings.json, creating it."""
    status, out, _ = _install(capsys, "claude-code", "--project")
    assert status == 0
    assert "created" in out
    assert (Path.cwd() / ".claude" / "settings.json").is_file()
    assert not (home / ".claude").exists()


def test_dry_run_prints_the_change_and_writes_nothing(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run prints a diff of the settings file and leaves it untouched."""
    settings = home / ".codex" / "hooks.json"
    _write(settings, {"hooks": THEIRS})
    before = settings.read_text()
    status, out, _ = _install(capsys, "codex", "--dry-run")
    assert status == 0
    assert f"+++ {settings}" in out
    assert "hook codex" in out
    assert "dry run" in out
    assert settings.read_text() == before


def test_invalid_json_is_left_alone(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A settings file that is not JSON: exit 2, a message naming it, nothing written."""
    settings = home / ".gemini" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text('{"hooks": {,}')
    status, _, err = _install(capsys, "gemini")
    assert status == 2
    assert str(settings) in err
    assert "not valid JSON" in err
    assert settings.read_text() == '{"hooks": {,}'


def test_codex_tells_the_person_to_trust_the_hook(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Codex: command hooks for both events, and a note about /hooks; --http is refused."""
    status, out, _ = _install(capsys, "codex")
    assert status == 0
    assert "/hooks" in out
    data = json.loads((home / ".codex" / "hooks.json").read_text())
    assert set(data["hooks"]) == {"PreToolUse", "PermissionRequest"}
    assert data["hooks"]["PermissionRequest"][0]["hooks"][0]["type"] == "command"
    status, _, err = _install(capsys, "codex", "--http")
    assert status == 2
    assert "command hooks only" in err


def test_gemini_writes_a_before_tool_hook_in_milliseconds(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Gemini: a named BeforeTool command hook, its timeout in milliseconds."""
    _write(home / ".gemini" / "settings.json", {"theme": "dark", "hooks": THEIRS})
    assert _install(capsys, "gemini")[0] == 0
    data = json.loads((home / ".gemini" / "settings.json").read_text())
    assert data["theme"] == "dark"
    (group,) = data["hooks"]["BeforeTool"]
    handler = group["hooks"][0]
    assert (handler["name"], handler["type"], handler["timeout"]) == (
        "agentactors",
        "command",
        600_000,
    )
    assert "run_shell_command" in group["matcher"]
    assert data["hooks"]["PreToolUse"] == THEIRS["PreToolUse"]


def test_a_hooks_value_of_the_wrong_shape_is_refused(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``hooks`` that is not an object: exit 2, nothing written."""
    _write(home / ".claude" / "settings.json", {"hooks": ["x"]})
    status, _, err = _install(capsys, "claude-code")
    assert status == 2
    assert "not an object" in err


def test_a_symlinked_settings_file_is_written_where_it_points(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Settings kept in a dotfiles repository stay a link; the target gets our hooks."""
    target = home.parent / "dotfiles" / "claude.json"
    _write(target, {"hooks": THEIRS})
    link = home / ".claude" / "settings.json"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    assert _install(capsys, "claude-code")[0] == 0
    assert link.is_symlink()
    assert "PermissionRequest" in json.loads(target.read_text())["hooks"]

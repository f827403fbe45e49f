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


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "http://127.0.0.1:4096?x=1#top",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:abc",
        "http://[::1",
        "file:///tmp/server",
        "http://user:secret@127.0.0.1:4096",
    ],
)
@pytest.mark.parametrize("agent", ["claude-code", "codex"])
def test_a_bad_url_writes_nothing(
    home: Path, capsys: pytest.CaptureFixture[str], agent: str, url: str
) -> None:
    """A --url that cannot name a server is refused as the hook command refuses it:
    one line, exit 2, no file."""
    status, out, err = _install(capsys, agent, "--url", url)
    assert (status, out) == (2, "")
    assert err.startswith(f"agentactors install {agent}: --url ")
    assert err.count("\n") == 1
    assert not any(home.rglob("*.json"))


def test_fail_closed_needs_the_command_hook(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Claude's HTTP hook cannot fail closed: --fail closed without --command is
    refused (exit 2, nothing written), not silently dropped."""
    for transport in ([], ["--http"]):
        status, _, err = _install(capsys, "claude-code", *transport, "--fail", "closed")
        assert status == 2
        assert "--command" in err
    assert not (home / ".claude").exists()
    assert _install(capsys, "claude-code", "--fail", "open")[0] == 0


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"hooks": {}, "retries": 1e400}', "too large"),
        ('{"hooks": {}, "limit": -1E999}', "too large"),
        ('{"hooks": {}, "limit": NaN}', "NaN"),
        ('{"hooks": {}, "limit": Infinity}', "Infinity"),
        ('{"model": "opus", "model": "sonnet"}', "'model' appears twice"),
        ('{"permissions": {"allow": [], "allow": ["Read"]}}', "'allow' appears twice"),
    ],
)
def test_a_file_rewriting_would_damage_is_left_alone(
    home: Path, capsys: pytest.CaptureFixture[str], text: str, why: str
) -> None:
    """A settings file a rewrite would change or break (a number no float holds, NaN,
    a duplicate key) is refused with the reason: exit 2, the file untouched."""
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(text)
    status, _, err = _install(capsys, "claude-code")
    assert status == 2
    assert why in err
    assert "nothing was written" in err
    assert settings.read_text() == text


def test_a_lone_surrogate_is_written_back_escaped(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A string escape no UTF-8 can hold (a lone surrogate) stays an escape."""
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text('{"note": "\\ud800 é"}')
    assert _install(capsys, "claude-code")[0] == 0
    written = settings.read_text(encoding="utf-8")
    assert "\\ud800" in written
    assert json.loads(written)["note"] == "\ud800 é"


def test_a_read_only_settings_file_is_not_replaced(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A settings file without a write bit is refused even when its folder is writable
    (and for root, who may write anything): exit 2, the file and its mode as they were."""
    settings = home / ".claude" / "settings.json"
    _write(settings, {"model": "opus"})
    before = settings.read_text()
    settings.chmod(0o444)
    status, _, err = _install(capsys, "claude-code")
    assert status == 2
    assert "read-only" in err
    assert settings.read_text() == before
    assert settings.stat().st_mode & 0o777 == 0o444


def test_a_rewrite_keeps_the_file_mode(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The settings file written over keeps its mode (a private file stays private)."""
    settings = home / ".claude" / "settings.json"
    _write(settings, {"model": "opus"})
    settings.chmod(0o600)
    assert _install(capsys, "claude-code")[0] == 0
    assert "hooks" in json.loads(settings.read_text())
    assert settings.stat().st_mode & 0o777 == 0o600

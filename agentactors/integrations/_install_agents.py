"""The installers of Claude Code, Codex and Gemini CLI: our hook groups merged into each
agent's JSON settings (see ``_settings_file.merge_hooks``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._install import InstallOptions
from ._settings_file import InstallError, Plan, change_for, merge_hooks, read_settings

CLAUDE_TIMEOUT = 600  # seconds: Claude's own default for a hook
CODEX_TIMEOUT = 600  # seconds
GEMINI_TIMEOUT = 600_000  # milliseconds
CLAUDE_TOOLS = (
    "Bash|PowerShell|Edit|Write|MultiEdit|NotebookEdit|Read|Glob|Grep|WebFetch|WebSearch|mcp__.*"
)
"""PreToolUse's matcher: the tools rules have kinds for.  PermissionRequest takes every
tool (Claude sends it only when it would ask)."""
GEMINI_TOOLS = (
    "run_shell_command|write_file|replace|edit|read_file|read_many_files|list_directory|glob"
    "|search_file_content|grep_search|web_fetch|google_web_search|mcp__.*"
)
PASSWORD_ENV = "AGENTACTORS_SERVER_PASSWORD"


def _is_ours(agent: str) -> Any:
    def ours(handler: Any) -> bool:
        if not isinstance(handler, dict):
            return False
        url, command = handler.get("url"), handler.get("command")
        return (isinstance(url, str) and url.rstrip("/").endswith(f"/hook/{agent}")) or (
            isinstance(command, str) and "agentactors" in command and f"hook {agent}" in command
        )

    return ours


def _plan(
    path: Path, agent: str, groups: dict[str, dict[str, Any]], notes: tuple[str, ...] = ()
) -> Plan:
    data, before = read_settings(path)
    merged = merge_hooks(data, groups, _is_ours(agent), path)
    return Plan((change_for(path, before, merged),), notes)


def claude_code(options: InstallOptions) -> Plan:
    """PreToolUse (the tools of :data:`CLAUDE_TOOLS`) and PermissionRequest (every tool),
    as an HTTP hook (default) or a command hook, in ``~/.claude/settings.json`` or the
    project's ``.claude/settings.json``.  Raises InstallError for ``fail`` closed with
    the HTTP hook (a failed HTTP hook is always no decision)."""
    base = options.home if options.scope == "user" else options.project
    path = base / ".claude" / "settings.json"
    handler: dict[str, Any]
    if options.transport in (None, "http"):
        if options.fail == "closed":
            raise InstallError(
                "--fail applies to the command hook (--command): Claude Code takes a "
                "failed HTTP hook as no decision; nothing was written"
            )
        handler = {
            "type": "http",
            "url": f"{options.url.rstrip('/')}/hook/claude-code",
            "timeout": CLAUDE_TIMEOUT,
            "headers": {"Authorization": f"Bearer ${PASSWORD_ENV}"},
            "allowedEnvVars": [PASSWORD_ENV],
        }
    else:
        handler = {
            "type": "command",
            "command": options.hook_command("claude-code"),
            "timeout": CLAUDE_TIMEOUT,
        }
    groups = {
        "PreToolUse": {"matcher": CLAUDE_TOOLS, "hooks": [handler]},
        "PermissionRequest": {"matcher": "*", "hooks": [handler]},
    }
    return _plan(path, "claude-code", groups)


def codex(options: InstallOptions) -> Plan:
    """PreToolUse and PermissionRequest command hooks in ``~/.codex/hooks.json`` or the
    project's ``.codex/hooks.json``.  Codex runs a new hook only once the person trusts
    it in ``/hooks``."""
    if options.transport == "http":
        raise InstallError("codex runs command hooks only: leave out --http")
    base = options.home if options.scope == "user" else options.project
    path = base / ".codex" / "hooks.json"
    handler = {
        "type": "command",
        "command": options.hook_command("codex"),
        "timeout": CODEX_TIMEOUT,
    }
    groups = {
        "PreToolUse": {"matcher": "*", "hooks": [handler]},
        "PermissionRequest": {"matcher": "*", "hooks": [handler]},
    }
    note = (
        "Codex runs a new hook only after you trust it: open Codex, type /hooks and "
        "trust the agentactors hooks."
    )
    return _plan(path, "codex", groups, (note,))


def gemini(options: InstallOptions) -> Plan:
    """A BeforeTool command hook (the tools of :data:`GEMINI_TOOLS`) in
    ``~/.gemini/settings.json`` or the project's ``.gemini/settings.json``."""
    if options.transport == "http":
        raise InstallError("gemini runs command hooks only: leave out --http")
    base = options.home if options.scope == "user" else options.project
    path = base / ".gemini" / "settings.json"
    handler = {
        "name": "agentactors",
        "type": "command",
        "command": options.hook_command("gemini"),
        "timeout": GEMINI_TIMEOUT,
    }
    note = (
        "Gemini's own allow still shows its dialog: to let agentactors' allow run a "
        "tool without it, allow the tool in Gemini's policy (the hook still denies or asks)."
    )
    return _plan(
        path, "gemini", {"BeforeTool": {"matcher": GEMINI_TOOLS, "hooks": [handler]}}, (note,)
    )

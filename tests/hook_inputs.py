"""The agents' hook inputs, field for field as each agent documents them (common fields,
optional ones, the tool inputs), with an unknown field as newer builds add them."""

from __future__ import annotations

from typing import Any

from .http_helpers import PROJECT

CLAUDE_SESSION = "9d1c4a9e-2b7f-4c1e-9a51-3f1b0c7e5d21"
CODEX_SESSION = "0199a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b"
GEMINI_SESSION = "b7c1d2e3-f4a5-4b6c-8d7e-9f0a1b2c3d4e"

CLAUDE_TOOLS: dict[str, dict[str, Any]] = {
    "Bash": {
        "command": "git status",
        "description": "Show the tree",
        "timeout": 120000,
        "run_in_background": False,
    },
    "PowerShell": {"command": "Get-ChildItem", "description": "List files"},
    "Write": {"file_path": f"{PROJECT}/notes.md", "content": "# Notes\n"},
    "Edit": {
        "file_path": f"{PROJECT}/app.py",
        "old_string": "a = 1",
        "new_string": "a = 2",
        "replace_all": False,
    },
    "MultiEdit": {
        "file_path": f"{PROJECT}/app.py",
        "edits": [{"old_string": "a", "new_string": "b"}],
    },
    "NotebookEdit": {
        "notebook_path": f"{PROJECT}/nb.ipynb",
        "new_source": "print(1)",
        "cell_id": "c1",
        "edit_mode": "replace",
    },
    "Read": {"file_path": f"{PROJECT}/README.md", "offset": 1, "limit": 200},
    "Glob": {"pattern": "**/*.py", "path": f"{PROJECT}/src"},
    "Grep": {
        "pattern": "TODO",
        "path": PROJECT,
        "glob": "*.py",
        "output_mode": "content",
        "-n": True,
    },
    "WebFetch": {
        "url": "https://docs.python.org/3/library/json.html",
        "prompt": "What does dumps do?",
    },
    "WebSearch": {"query": "trio nursery cancel scope", "allowed_domains": ["trio.rtfd.io"]},
    "mcp__github__create_issue": {"owner": "o", "repo": "r", "title": "Bug"},
    "Agent": {
        "description": "Find the tests",
        "prompt": "Look for tests",
        "subagent_type": "general-purpose",
    },
}


def claude(
    event: str, tool_name: str, tool_input: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """A Claude Code PreToolUse or PermissionRequest input."""
    body: dict[str, Any] = {
        "session_id": CLAUDE_SESSION,
        "transcript_path": f"/home/dev/.claude/projects/-work-project/{CLAUDE_SESSION}.jsonl",
        "cwd": PROJECT,
        "permission_mode": "default",
        "hook_event_name": event,
        "tool_name": tool_name,
        "tool_input": CLAUDE_TOOLS.get(tool_name, {}) if tool_input is None else tool_input,
    }
    if event == "PreToolUse":
        body["tool_use_id"] = "toolu_01ABCDEFGHJKMNPQRSTVWXYZ0"
    return {**body, **extra}


def claude_suggestions(tool_name: str, rule: str) -> list[dict[str, Any]]:
    """Claude's permission_suggestions for a prompt: a rule for this tool (to echo), a
    mode change and a rule for another tool (not to echo)."""
    return [
        {
            "type": "addRules",
            "rules": [{"toolName": tool_name, "ruleContent": rule}],
            "behavior": "allow",
            "destination": "localSettings",
        },
        {"type": "setMode", "mode": "acceptEdits", "destination": "session"},
        {
            "type": "addRules",
            "rules": [{"toolName": "Read", "ruleContent": "//tmp/**"}],
            "behavior": "allow",
            "destination": "localSettings",
        },
    ]


SUBAGENT = {"agent_id": "agent_7f3e", "agent_type": "general-purpose", "prompt_id": "p_1"}
"""Fields Claude adds inside subagents and in newer builds."""
UNKNOWN = {"future_field": {"nested": [1, 2, 3]}}
"""A field no build documents yet: tolerated."""


def codex(event: str, tool_name: str, tool_input: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A Codex PreToolUse or PermissionRequest input."""
    body: dict[str, Any] = {
        "session_id": CODEX_SESSION,
        "turn_id": "turn_3",
        "transcript_path": None,
        "cwd": PROJECT,
        "hook_event_name": event,
        "model": "gpt-5-codex",
        "permission_mode": "default",
        "tool_name": tool_name,
        "tool_input": tool_input,
    }
    if event == "PreToolUse":
        body["tool_use_id"] = "call_Q1w2E3r4T5y6"
    return {**body, **extra}


PATCH = """*** Begin Patch
*** Update File: src/app.py
@@ def main():
-    return 1
+    return 2
*** Add File: docs/new.md
+# New
*** Delete File: old.txt
*** Update File: src/name.py
*** Move to: src/renamed.py
*** End Patch
"""


def gemini(tool_name: str, tool_input: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A Gemini CLI BeforeTool input."""
    return {
        "session_id": GEMINI_SESSION,
        "transcript_path": f"/home/dev/.gemini/tmp/chats/{GEMINI_SESSION}.json",
        "cwd": PROJECT,
        "hook_event_name": "BeforeTool",
        "timestamp": "2026-12-02T14:00:00.000Z",
        "tool_name": tool_name,
        "tool_input": tool_input,
        **extra,
    }

"""Codex CLI: its tools as our kinds (``apply_patch`` edits the files its patch names),
and its hook answers.

PermissionRequest answers a ``decision`` allow, or deny with a message, or nothing
(Codex's own prompt).  PreToolUse can only deny: any other answer is nothing, since
Codex marks a hook answering ``ask`` there as failed and runs the call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._agent import Agent, Answer
from ._calls import MAX_SHOWN, ToolAsk, absolute, shell
from ._verdict import Verdict

PRE_TOOL_USE = "PreToolUse"
PERMISSION_REQUEST = "PermissionRequest"
NETWORK_ACCESS = "network-access "
"""A Bash request whose description starts so asks for the network (the domain follows)."""

_PATCH_FILE = re.compile(r"^\*\*\* (?:Add File|Update File|Delete File|Move to): (.+?)\s*$", re.M)


def patch_paths(patch: str) -> list[str]:
    """The files a Codex patch adds, updates, deletes or moves to, in order."""
    return list(dict.fromkeys(match.strip() for match in _PATCH_FILE.findall(patch)))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def apply_patch(tool_input: Mapping[str, Any], cwd: str) -> ToolAsk:
    """``edit`` on the files the patch names: one file is the server's to check under
    every spelling (``metadata.path``); several are absolute patterns."""
    paths: list[str] = []
    for value in tool_input.values():
        for candidate in _strings(value):
            paths.extend(patch_paths(candidate))
    paths = [absolute(p, cwd) for p in dict.fromkeys(paths) if "\x00" not in p]
    if len(paths) == 1:
        return ToolAsk("edit", (), {"path": paths[0]})
    if not paths:
        return ToolAsk("edit", ("*",))
    return ToolAsk("edit", tuple(paths), {"filePath": paths})


def bash(tool_input: Mapping[str, Any], cwd: str) -> ToolAsk:
    """``bash`` on the command, or ``network`` on the domain of a network request."""
    description = tool_input.get("description")
    if isinstance(description, str) and description.startswith(NETWORK_ACCESS):
        domain = description.removeprefix(NETWORK_ACCESS).strip()
        if domain:
            return ToolAsk("network", (domain[:MAX_SHOWN],), {"domain": domain[:MAX_SHOWN]})
    return shell(tool_input, cwd)


TOOLS = {
    "Bash": bash,
    "shell": bash,
    "local_shell": bash,
    "exec_command": bash,
    "apply_patch": apply_patch,
}


def answer(event: str, verdict: Verdict, body: Mapping[str, Any]) -> Answer:
    if event == PERMISSION_REQUEST:
        if verdict.outcome == "fallback":
            return {}
        decision: dict[str, Any] = {"behavior": "allow"}
        if verdict.outcome == "deny":
            decision = {"behavior": "deny", "message": verdict.reason}
        return {"hookSpecificOutput": {"hookEventName": event, "decision": decision}}
    if verdict.outcome != "deny":
        return {}
    return {
        "hookSpecificOutput": {
            "hookEventName": event,
            "permissionDecision": "deny",
            "permissionDecisionReason": verdict.reason,
        }
    }


def unreachable(event: str, reason: str, closed: bool) -> Answer:
    return answer(event, Verdict("deny", reason), {}) if closed else {}


CODEX = Agent(
    name="codex",
    title="Codex",
    events=(PRE_TOOL_USE, PERMISSION_REQUEST),
    prompts=frozenset({PERMISSION_REQUEST}),
    tools=TOOLS,
    answer=answer,
    unreachable=unreachable,
)

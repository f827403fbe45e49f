"""Claude Code: its tools as our kinds, and its hook answers.

PreToolUse answers ``permissionDecision`` allow, deny or (after the hold) ask, which
hands the call to Claude's own prompt.  PermissionRequest answers a ``decision`` allow
or deny, or nothing (Claude's prompt); an "always" echoes Claude's matching
``permission_suggestions`` (rules to allow) as ``updatedPermissions`` for the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._agent import Agent, Answer
from ._calls import file, search, shell, text
from ._verdict import Verdict

PRE_TOOL_USE = "PreToolUse"
PERMISSION_REQUEST = "PermissionRequest"

TOOLS = {
    "Bash": shell,
    "PowerShell": shell,
    "Edit": file("edit", "file_path"),
    "Write": file("edit", "file_path"),
    "MultiEdit": file("edit", "file_path"),
    "NotebookEdit": file("edit", "notebook_path", "file_path"),
    "Read": file("read", "file_path"),
    "Glob": search("read", "path"),
    "Grep": search("read", "path"),
    "WebFetch": text("webfetch", "url"),
    "WebSearch": text("websearch", "query"),
}


def answer(event: str, verdict: Verdict, body: Mapping[str, Any]) -> Answer:
    if event == PERMISSION_REQUEST:
        if verdict.outcome == "fallback":
            return {}
        decision: dict[str, Any]
        if verdict.outcome == "allow":
            decision = {"behavior": "allow"}
            remembered = _always(body) if verdict.always else []
            if remembered:
                decision["updatedPermissions"] = remembered
        else:
            decision = {"behavior": "deny", "message": verdict.reason, "interrupt": False}
        return {"hookSpecificOutput": {"hookEventName": event, "decision": decision}}
    effect = {"allow": "allow", "deny": "deny", "fallback": "ask"}[verdict.outcome]
    return {
        "hookSpecificOutput": {
            "hookEventName": event,
            "permissionDecision": effect,
            "permissionDecisionReason": verdict.reason,
        }
    }


def _always(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Claude's suggestions that add allow rules for this tool, for the session."""
    suggestions = body.get("permission_suggestions")
    tool = body.get("tool_name")
    echoed = []
    for suggestion in suggestions if isinstance(suggestions, list) else []:
        if not isinstance(suggestion, Mapping):
            continue
        rules = suggestion.get("rules")
        if (
            suggestion.get("type") == "addRules"
            and suggestion.get("behavior") == "allow"
            and isinstance(rules, list)
            and rules
            and all(isinstance(r, Mapping) and r.get("toolName") == tool for r in rules)
        ):
            echoed.append({**suggestion, "destination": "session"})
    return echoed


def unreachable(event: str, reason: str, closed: bool) -> Answer:
    if not closed:
        return {}
    return answer(event, Verdict("deny", reason), {})


CLAUDE = Agent(
    name="claude-code",
    title="Claude Code",
    events=(PRE_TOOL_USE, PERMISSION_REQUEST),
    prompts=frozenset({PERMISSION_REQUEST}),
    tools=TOOLS,
    answer=answer,
    unreachable=unreachable,
)

"""Claude Code: its tools as our kinds, and its hook answers.

PreToolUse answers ``permissionDecision`` allow, deny or (after the hold) ask, which
hands the call to Claude's own prompt.  PermissionRequest answers a ``decision`` allow
or deny, or nothing (Claude's prompt); an "always" echoes those of Claude's
``permission_suggestions`` (rules to allow) that are no wider than what the person saved,
as ``updatedPermissions`` for the session.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._agent import Agent, Answer
from ._calls import file, search, shell, text
from ._verdict import Verdict

PRE_TOOL_USE = "PreToolUse"
PERMISSION_REQUEST = "PermissionRequest"

SHELL_TOOLS = frozenset({"Bash", "PowerShell"})
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
            remembered = _always(body, verdict.always) if verdict.always else []
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


def _always(body: Mapping[str, Any], saved: tuple[str, ...]) -> list[dict[str, Any]]:
    """Claude's suggestions that add allow rules for this tool, for the session, each
    cut to the rules no wider than the ``saved`` patterns (a suggestion left with none
    goes)."""
    suggestions = body.get("permission_suggestions")
    tool = body.get("tool_name")
    echoed = []
    for suggestion in suggestions if isinstance(suggestions, list) else []:
        if not isinstance(suggestion, Mapping):
            continue
        rules = suggestion.get("rules")
        if not (
            suggestion.get("type") == "addRules"
            and suggestion.get("behavior") == "allow"
            and isinstance(rules, list)
        ):
            continue
        covered = [
            rule
            for rule in rules
            if isinstance(rule, Mapping)
            and rule.get("toolName") == tool
            and _covered(str(tool), rule.get("ruleContent"), saved)
        ]
        if covered:
            echoed.append({**suggestion, "rules": covered, "destination": "session"})
    return echoed


def _covered(tool: str, content: Any, saved: tuple[str, ...]) -> bool:
    """Whether every call Claude's rule (``tool``, ``content``) allows is one the
    ``saved`` patterns allow too.

    ``*`` covers every rule of the tool.  Otherwise only a shell command is compared
    (Claude's other specifiers, paths and ``domain:``, are not our patterns): an exact
    command is covered by a pattern that matches it; a prefix ``X:*`` or ``X *`` (X and
    X followed by a space and anything) by a pattern ``S*`` whose fixed start X and
    ``X `` both match.  Any other wildcard, and no content at all (the whole tool), is
    not covered.
    """
    from agentactors.policy import wildcard_match  # noqa: PLC0415 - the hook command never answers an always

    if "*" in saved:
        return True
    if tool not in SHELL_TOOLS or not isinstance(content, str) or not content.strip():
        return False
    stem = content[:-2] if content.endswith((":*", " *")) else None
    if stem is None:
        return "*" not in content and any(wildcard_match(p, content) for p in saved)
    if not stem.strip() or "*" in stem:
        return False
    return any(
        p.endswith("*")
        and "*" not in p[:-1]
        and len(p) - 1 <= len(stem) + 1
        and wildcard_match(p, stem)
        and wildcard_match(p, f"{stem} ")
        for p in saved
    )


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

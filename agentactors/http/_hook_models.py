"""The agents' hook bodies and answers, as their agents send and read them.

Fields are the agents' own (snake_case in, camelCase out).  Unknown fields are tolerated
(agents add some with every release); a missing or mistyped field the translation needs
is a 400 naming it.  Pure declarations, validated by ``_inputs`` and documented by
``_doc`` like every other body.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import attrs
import msgspec

from agentactors.model import MAX_NAME

from ._models import Directory

AgentSession = Annotated[
    str, msgspec.Meta(min_length=1, max_length=512, description="the agent's session id")
]
ToolName = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME)]
ToolInput = Annotated[dict[str, Any], msgspec.Meta(description="the tool's arguments")]


@attrs.define(kw_only=True)
class ClaudeCodeHook:
    """A Claude Code PreToolUse or PermissionRequest hook input."""

    session_id: AgentSession
    cwd: Directory
    hook_event_name: Literal["PreToolUse", "PermissionRequest"]
    tool_name: ToolName
    tool_input: ToolInput
    transcript_path: str | None = None
    permission_mode: str | None = None
    tool_use_id: str | None = None
    permission_suggestions: list[dict[str, Any]] | None = None
    agent_id: str | None = None
    agent_type: str | None = None
    prompt_id: str | None = None


@attrs.define(kw_only=True)
class CodexHook:
    """A Codex PreToolUse or PermissionRequest hook input."""

    session_id: AgentSession
    cwd: Directory
    hook_event_name: Literal["PreToolUse", "PermissionRequest"]
    tool_name: ToolName
    tool_input: ToolInput
    turn_id: str | None = None
    transcript_path: str | None = None
    model: str | None = None
    permission_mode: str | None = None
    tool_use_id: str | None = None
    permission_suggestions: list[dict[str, Any]] | None = None


@attrs.define(kw_only=True)
class GeminiHook:
    """A Gemini CLI BeforeTool hook input."""

    session_id: AgentSession
    cwd: Directory
    hook_event_name: Literal["BeforeTool"]
    tool_name: ToolName
    tool_input: ToolInput
    transcript_path: str | None = None
    timestamp: str | None = None


# --- answers -----------------------------------------------------------------------------


@attrs.define(kw_only=True)
class ClaudeDecision:
    behavior: Literal["allow", "deny"]
    message: str | None = None
    interrupt: bool | None = None
    updatedPermissions: list[dict[str, Any]] | None = None


@attrs.define(kw_only=True)
class HookOutput:
    """What the hook decided: PreToolUse's permissionDecision or PermissionRequest's
    decision."""

    hookEventName: Literal["PreToolUse", "PermissionRequest"]
    permissionDecision: Literal["allow", "deny", "ask"] | None = None
    permissionDecisionReason: str | None = None
    decision: ClaudeDecision | None = None


@attrs.define(kw_only=True)
class HookAnswer:
    """Claude Code's and Codex's hook output; ``{}`` is no decision (the agent's own
    prompt)."""

    hookSpecificOutput: HookOutput | None = None


@attrs.define(kw_only=True)
class GeminiAnswer:
    """Gemini CLI's BeforeTool output."""

    decision: Literal["allow", "deny", "ask"]
    reason: str | None = None

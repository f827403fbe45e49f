"""The agents' hook routes: ``POST /hook/claude-code`` (Claude Code's HTTP hook), and
``/hook/codex`` and ``/hook/gemini``, which the ``agentactors hook`` command forwards
those agents' command hooks to.

Each takes the agent's hook input as sent and answers in the agent's own shape; a call
that must wait for a person is held (``_hooks``).  An answer of ``{}`` is no decision.
"""

from __future__ import annotations

from typing import Any

import attrs
from quart import Blueprint, Response

from agentactors.integrations import CLAUDE, CODEX, GEMINI, Agent

from ._context import context
from ._doc import answers
from ._hook_models import ClaudeCodeHook, CodexHook, GeminiAnswer, GeminiHook, HookAnswer
from ._hooks import answer_hook
from ._inputs import body
from ._json import json_response

blueprint = Blueprint("hooks", __name__)


async def _answer(agent: Agent, hook: Any) -> Response:
    state = context()
    answer = await answer_hook(
        agent, attrs.asdict(hook), hooks=state.hooks, config=state.config, held=state.held
    )
    return json_response(answer)


@blueprint.post("/hook/claude-code")
@answers(HookAnswer)
@body(ClaudeCodeHook)
async def hook_claude_code(body: ClaudeCodeHook) -> Response:
    """Claude Code's PreToolUse or PermissionRequest hook

    Our deny is deny (the rule or the reject message as the reason), our allow allow. A
    call that asks is held until answered or the hold ([hooks] hold) runs out: then
    PreToolUse answers ask and PermissionRequest nothing (Claude's own prompt), or deny
    as configured. An always on PermissionRequest echoes Claude's matching
    permission_suggestions as updatedPermissions for the session.
    """
    return await _answer(CLAUDE, body)


@blueprint.post("/hook/codex")
@answers(HookAnswer)
@body(CodexHook)
async def hook_codex(body: CodexHook) -> Response:
    """Codex's PreToolUse or PermissionRequest hook (via agentactors hook codex)

    PermissionRequest: allow, deny with a message, or nothing once the hold runs out.
    PreToolUse: deny, or nothing (Codex does not take ask there).
    """
    return await _answer(CODEX, body)


@blueprint.post("/hook/gemini")
@answers(GeminiAnswer)
@body(GeminiHook)
async def hook_gemini(body: GeminiHook) -> Response:
    """Gemini CLI's BeforeTool hook (via agentactors hook gemini)

    deny, allow (Gemini's policy still decides), or ask (Gemini's dialog) once the hold
    runs out.
    """
    return await _answer(GEMINI, body)

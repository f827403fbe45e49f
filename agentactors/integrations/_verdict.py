"""What the agent is told: a request's final state as allow, deny or *fallback* (the
agent's own prompt decides), with the reason shown to the person or the model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:  # the hook command loads this package and never sees a request
    from agentactors.model import PermissionRequest

Outcome = Literal["allow", "deny", "fallback"]
PRE_EXPIRED = ("ask", "deny")
"""``[hooks] pre_tool_use_expired``: PreToolUse and BeforeTool after the hold."""
REQUEST_EXPIRED = ("none", "deny")
"""``[hooks] permission_request_expired``: PermissionRequest after the hold."""


@attrs.frozen
class Verdict:
    """``always``: the patterns a person's "always" saved (empty: not an always); the
    agent may remember as much, never more."""

    outcome: Outcome
    reason: str
    always: tuple[str, ...] = ()


def verdict_of(request: PermissionRequest, *, hold: float, expired_deny: bool) -> Verdict:
    """The verdict on a final request.  An expired one (the hold ran out) falls back to
    the agent's prompt, or is denied when ``expired_deny``."""
    by = request.decided_by
    who = "?" if by is None else by.kind if not by.name else f"{by.kind} {by.name}"
    if request.allowed:
        if request.rule is not None and by is not None and by.kind == "rule":
            who = f"rule {request.rule.describe()}"
        saved = request.saves if request.reply == "always" else ()
        return Verdict("allow", f"agentactors: allowed by {who}", saved)
    if request.state == "expired":
        waited = f"agentactors: no answer within {hold:g} s"
        if expired_deny:
            return Verdict("deny", waited)
        return Verdict("fallback", waited)
    return Verdict("deny", _why_denied(request, who))


def _why_denied(request: PermissionRequest, who: str) -> str:
    if request.effect == "deny" and request.rule is not None:
        return f"agentactors: denied by rule {request.rule.describe()}"
    if request.message:
        return request.message
    if request.state == "aborted":
        return f"agentactors: the request was aborted ({who})"
    return f"agentactors: rejected by {who}"

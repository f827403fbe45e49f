"""Deciding a request from rules and saved approvals: pure, table-testable.

Each pattern is decided alone: the last matching rule gives its action (ask if none);
an ``ask`` becomes ``allow`` if a saved approval in scope covers the pattern — a saved
approval never lifts a ``deny``.  The request takes the strictest action of its patterns
(deny > ask > allow).  An *opaque* request (a shell command the parser could not
resolve) can never be allowed: its ``allow`` becomes ``ask``, a ``deny`` stays.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ._models import STRICTNESS, Action, Rule, SavedApproval
from ._rules import approval_covers, evaluate


@attrs.frozen
class Decision:
    effect: Action
    rule: Rule | None  # the rule behind the effect (the denying one, for a deny)
    approvals: tuple[SavedApproval, ...] = ()  # approvals that lifted an ask


def decide(
    rules: Sequence[Rule],
    approvals: Sequence[SavedApproval],
    permission: str,
    patterns: Sequence[str],
    *,
    opaque: bool = False,
) -> Decision:
    """The effect of asking ``permission`` for ``patterns`` under these rules."""
    effect: Action = "allow"
    deciding: Rule | None = None
    used: list[SavedApproval] = []
    for pattern in patterns or ("*",):
        action, rule = evaluate(rules, permission, pattern)
        if action == "ask":
            approval = next((a for a in approvals if approval_covers(a, permission, pattern)), None)
            if approval is not None:
                action = "allow"
                used.append(approval)
        if STRICTNESS[action] > STRICTNESS[effect]:
            effect, deciding = action, rule
        elif action == effect and deciding is None:
            deciding = rule
    if opaque and effect == "allow":
        return Decision("ask", None)
    return Decision(effect, deciding, tuple(dict.fromkeys(used)) if effect == "allow" else ())

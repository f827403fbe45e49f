"""Deciding a request from rules and saved approvals: pure, table-testable.

Each pattern is decided alone: the last matching rule gives its action (ask if none);
an ``ask`` becomes ``allow`` if a saved approval in scope covers the pattern — a saved
approval never lifts a ``deny``.  The request takes the strictest action of its patterns
(deny > ask > allow).  An *opaque* request (a shell command the parser could not
resolve) and a *protected* one (it writes agentactors' own configuration or code,
``_protected``) can never be allowed: its ``allow`` becomes ``ask``, a ``deny`` stays.
A decision's matching has a work budget (``_rules.Budget``): what it cannot afford to
match fails closed, so a rule set or pattern built to be slow gets a stricter answer,
never a looser one.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from agentactors.model import STRICTNESS, Action, Rule, SavedApproval

from ._derive import Check
from ._rules import Budget, approval_covers, evaluate


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
    checks = [Check(permission, p, p) for p in patterns or ("*",)]
    return decide_checks(rules, approvals, checks, opaque=opaque)


def decide_checks(
    rules: Sequence[Rule],
    approvals: Sequence[SavedApproval],
    checks: Sequence[Check],
    *,
    opaque: bool = False,
    protected: bool = False,
) -> Decision:
    """Decide every check alone, then take the strictest.

    A check is denied if a deny rule matches its deny view (every ``VAR=`` stripped);
    otherwise its allow view decides, and an ``ask`` there is lifted by a covering
    approval.  ``opaque`` or ``protected``: never ``allow`` (``ask`` instead).  All the
    matching shares one :class:`Budget`.
    """
    budget = Budget()
    effect: Action = "allow"
    deciding: Rule | None = None
    used: list[SavedApproval] = []
    for check in checks:
        action, rule = evaluate(rules, check.permission, check.deny_view, budget)
        if action != "deny":
            action, rule = evaluate(rules, check.permission, check.allow_view, budget)
        if action == "ask":
            approval = next(
                (
                    a
                    for a in approvals
                    if budget.left > 0
                    and approval_covers(a, check.permission, check.allow_view, budget)
                ),
                None,
            )
            if approval is not None:
                action = "allow"
                used.append(approval)
        if STRICTNESS[action] > STRICTNESS[effect]:
            effect, deciding = action, rule
        elif action == effect and deciding is None:
            deciding = rule
    if (opaque or protected) and effect == "allow":
        return Decision("ask", None)
    return Decision(effect, deciding, tuple(dict.fromkeys(used)) if effect == "allow" else ())

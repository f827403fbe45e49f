"""Rule matching: OpenCode's wildcards, last match wins, strictest pattern decides.

Wildcards: ``*`` is any run of characters (also none), ``?`` exactly one, everything else
literal, anchored at both ends.  A pattern ending in ``" *"`` also matches its bare
prefix (``"git *"`` matches ``"git"``), but never a longer word (``"ls *"`` does not match
``"lsof"``).  Pure functions; compiled patterns are cached.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

from ._models import STRICTNESS, Action, Rule, SavedApproval


@functools.lru_cache(maxsize=8192)
def _compile(pattern: str) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    body = "".join(parts)
    if pattern.endswith(" *"):
        # "git *" is "git" alone, or "git " followed by anything
        body = body[: -len(re.escape(" ") + ".*")] + "(?: .*)?"
    return re.compile(body, re.DOTALL)


def wildcard_match(pattern: str, text: str) -> bool:
    """Whether ``text`` matches the anchored wildcard ``pattern``."""
    if pattern == "*":
        return True
    return _compile(pattern).fullmatch(text) is not None


def evaluate(rules: Sequence[Rule], permission: str, pattern: str) -> tuple[Action, Rule | None]:
    """The action of the last rule matching ``permission`` and ``pattern`` (ask if none)."""
    for rule in reversed(rules):
        if wildcard_match(rule.permission, permission) and wildcard_match(rule.pattern, pattern):
            return rule.action, rule
    return "ask", None


def strictest(actions: Iterable[Action]) -> Action:
    """deny > ask > allow; an empty input is ask."""
    result: Action | None = None
    for action in actions:
        if result is None or STRICTNESS[action] > STRICTNESS[result]:
            result = action
    return result or "ask"


def approval_covers(approval: SavedApproval, permission: str, pattern: str) -> bool:
    """Whether a saved approval allows ``permission``/``pattern`` (scope checked elsewhere)."""
    return wildcard_match(approval.permission, permission) and wildcard_match(
        approval.pattern, pattern
    )

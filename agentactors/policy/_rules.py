"""Rule matching: OpenCode's wildcards, last match wins, strictest pattern decides.

Wildcards: ``*`` is any run of characters (also none, newlines included), ``?`` exactly
one, everything else literal, anchored at both ends.  A pattern ending in ``" *"`` also
matches its bare prefix (``"git *"`` matches ``"git"``), but never a longer word
(``"ls *"`` does not match ``"lsof"``).  Pure functions; compiled patterns are cached.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from agentactors.model import STRICTNESS, Action, Rule, SavedApproval

from ._glob import Matcher, compile_glob


@functools.lru_cache(maxsize=4096)
def _compile(pattern: str) -> Matcher:
    whole = compile_glob(pattern)
    if not pattern.endswith(" *"):
        return whole
    bare = compile_glob(pattern[:-2])  # "git *" is "git" alone, or "git " and anything
    return lambda text: whole(text) or bare(text)


def wildcard_match(pattern: str, text: str) -> bool:
    """Whether ``text`` matches the anchored wildcard ``pattern``.

    Never backtracks: at most one scan of ``text`` per run between stars (:mod:`._glob`).
    """
    return pattern == "*" or _compile(pattern)(text)


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

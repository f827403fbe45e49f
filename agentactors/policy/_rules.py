"""Rule matching: OpenCode's wildcards, last match wins, strictest pattern decides.

Wildcards: ``*`` is any run of characters (also none, newlines included), ``?`` exactly
one, everything else literal, anchored at both ends.  A pattern ending in ``" *"`` also
matches its bare prefix (``"git *"`` matches ``"git"``), but never a longer word
(``"ls *"`` does not match ``"lsof"``).  Compiled patterns are cached.

A decision spends at most :data:`MATCH_BUDGET` units of matching work (:class:`Budget`;
units as :mod:`._glob` counts them, about one character compared by C code each).  A
match the budget can no longer afford is not made: its answer is *unknown*, and an
unknown fails closed.  An ``allow`` rule that may match does not match; a ``deny`` rule
that may match denies; an ``ask`` rule that may match makes the answer at least
``ask``; a saved approval that may cover does not.  So the budget can only make a
decision stricter, never looser.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Final

from agentactors.model import STRICTNESS, Action, Rule, SavedApproval

from ._glob import Compiled, Matcher, compile_glob

MATCH_BUDGET: Final = 100_000_000
"""Units of matching one decision may spend (``design/performance.md``: what it takes)."""
_CACHE_SIZE: Final = 4096

_Entry = tuple[Matcher, int, Callable[[str], int] | None]
"""A cached pattern: its test, the fixed cost of a match and the cost that grows with
the text, or None (``_glob.Compiled``'s fields, as a tuple that unpacks fast)."""

_cache: dict[str, _Entry] = {}
_cache_lock = threading.Lock()  # only around a miss: insertion and eviction


def _entry(pattern: str) -> tuple[_Entry, int]:
    """``pattern``'s cache entry (a pattern ending in ``" *"`` also matches its bare
    prefix) and what compiling it cost (0 on a hit).  Thread-safe; never blocks long."""
    found = _cache.get(pattern)
    if found is not None:
        return found, 0
    whole = compile_glob(pattern)
    if pattern.endswith(" *"):
        bare = compile_glob(pattern[:-2])  # "git *" is "git" alone, or "git " and anything
        whole = _either(whole, bare)
    entry = (whole.match, whole.fixed, whole.scaled)
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()  # O(1) a miss; what is still in use comes back on its next miss
        _cache[pattern] = entry
    return entry, whole.compile_cost


def _either(first: Compiled, second: Compiled) -> Compiled:
    """Matches what either matches; costs both."""
    fixed = first.fixed + second.fixed
    one, other = first.match, second.match

    def both(text: str) -> int:
        return first.cost(text) + second.cost(text) - fixed

    return Compiled(
        lambda text: one(text) or other(text),
        fixed,
        None if first.scaled is None and second.scaled is None else both,
        first.compile_cost + second.compile_cost,
    )


def wildcard_match(pattern: str, text: str) -> bool:
    """Whether ``text`` matches the anchored wildcard ``pattern``: exact, whatever the
    cost (a decision uses :class:`Budget` instead).  Never backtracks (:mod:`._glob`)."""
    return pattern == "*" or _entry(pattern)[0][0](text)


class Budget:
    """The matching work one decision may still spend, in units (:mod:`._glob`)."""

    __slots__ = ("_denies", "left")

    def __init__(self, units: int = MATCH_BUDGET) -> None:
        self.left = units
        self._denies: tuple[Sequence[Rule], list[int]] | None = None

    def matches(self, pattern: str, text: str) -> bool | None:
        """Whether ``text`` matches ``pattern``, or None (unknown) when the match costs
        more than is left.  A compilation is paid after the fact (it is bounded by the
        pattern's length); none is made once the budget is spent."""
        entry = _cache.get(pattern)
        if entry is None:
            if self.left <= 0:
                return None
            entry, compiling = _entry(pattern)
            self.left -= compiling
        match, cost, scaled = entry
        if scaled is not None:
            cost += scaled(text)
        left = self.left - cost
        if left < 0:
            return None
        self.left = left
        return match(text)

    def last_deny(self, rules: Sequence[Rule], before: int) -> int:
        """The index of the last deny rule among ``rules[:before]``, or -1."""
        if self._denies is None or self._denies[0] is not rules:
            self._denies = rules, [i for i, rule in enumerate(rules) if rule.action == "deny"]
        denies = self._denies[1]
        found = bisect.bisect_left(denies, before)
        return denies[found - 1] if found else -1


def evaluate(
    rules: Sequence[Rule], permission: str, pattern: str, budget: Budget | None = None
) -> tuple[Action, Rule | None]:
    """The action of the last rule matching ``permission`` and ``pattern`` (ask if none),
    within ``budget`` (a fresh one if None).  A rule the budget cannot tell about fails
    closed (module docstring); once the budget is spent, the rules not yet looked at
    answer at once: the last deny among them if there is one, else ask."""
    budget = Budget() if budget is None else budget
    matches = budget.matches
    doubt: Rule | None = None  # an ask rule that may have matched
    for seen, rule in enumerate(reversed(rules), 1):
        found = matches(rule.permission, permission)
        if found is False:
            continue
        matched = matches(rule.pattern, pattern)
        if matched is False:
            continue
        if found and matched:
            if doubt is None or rule.action == "deny":
                return rule.action, rule
            return "ask", doubt
        if rule.action == "deny":  # it may match: unknown is a match
            return "deny", rule
        if rule.action == "ask" and doubt is None:
            doubt = rule
        if budget.left <= 0:  # spent: the rules below are all unknown
            deny = budget.last_deny(rules, len(rules) - seen)
            return ("deny", rules[deny]) if deny >= 0 else ("ask", doubt)
    return "ask", doubt


def strictest(actions: Iterable[Action]) -> Action:
    """deny > ask > allow; an empty input is ask."""
    result: Action | None = None
    for action in actions:
        if result is None or STRICTNESS[action] > STRICTNESS[result]:
            result = action
    return result or "ask"


def approval_covers(
    approval: SavedApproval, permission: str, pattern: str, budget: Budget | None = None
) -> bool:
    """Whether a saved approval allows ``permission``/``pattern`` (scope checked
    elsewhere); with a ``budget``, an approval it cannot afford to check does not."""
    if budget is None:
        return wildcard_match(approval.permission, permission) and wildcard_match(
            approval.pattern, pattern
        )
    return bool(budget.matches(approval.permission, permission)) and bool(
        budget.matches(approval.pattern, pattern)
    )

"""Wildcard matching cost: a pathological rule against 10,000 characters, and a typical
rule set deciding typical patterns.

Run: ``.venv/bin/python -m benchmarks.wildcard [--rounds N]``.  The pathological figure
is the slowest median over several texts built to defeat a matcher (a backtracking regex
takes exponential time on them), and the same for a pattern of ``?`` pieces; the typical
figure is one pattern decided against the rule set (last matching rule, compiled
patterns cached as in the server).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from agentactors.model import Rule
from agentactors.policy import wildcard_match
from agentactors.policy._rules import evaluate

from .shell_parse import measure

PATHOLOGICAL = "*a*a*a*a*a*a*a*a*b"
ONE_CHARS = "*a?a?a?a?a?a?a?a?b*"  # pieces with "?" are searched by a regex without quantifier
HOSTILE_TEXTS = {
    "a^10000": "a" * 10_000,
    "a^9999 b": "a" * 9_999 + "b",
    "b^10000": "b" * 10_000,
    "(ab)^5000": "ab" * 5_000,
    "(a^9 c)^1000 b": ("a" * 9 + "c") * 999 + "a" * 9 + "b",
}
RULES = (
    Rule("*", "*", "ask"),
    Rule("read", "*", "allow"),
    Rule("read", "*.env", "ask"),
    Rule("edit", "*", "ask"),
    Rule("edit", "/etc/*", "deny"),
    Rule("bash", "*", "ask"),
    Rule("bash", "git status", "allow"),
    Rule("bash", "git diff *", "allow"),
    Rule("bash", "git log *", "allow"),
    Rule("bash", "ls *", "allow"),
    Rule("bash", "cat *", "allow"),
    Rule("bash", "grep *", "allow"),
    Rule("bash", "npm run ?*", "allow"),
    Rule("bash", "rm *", "deny"),
    Rule("bash", "git push *", "deny"),
    Rule("webfetch", "https://docs.*", "allow"),
)
TYPICAL = (
    ("bash", "git log --oneline -n 20"),
    ("bash", "make deploy"),
    ("bash", "rm -rf build"),
    ("edit", "/work/project/src/app.py"),
    ("read", "/work/project/.env"),
    ("webfetch", "https://docs.python.org/3/"),
)


def _bind(function: Callable[..., object], *args: Any) -> Callable[[], object]:
    return lambda: function(*args)


def run(rounds: int) -> dict[str, Any]:
    """The figures, in microseconds."""
    hostile: dict[str, float] = {}
    for pattern in (PATHOLOGICAL, ONE_CHARS):
        for name, text in HOSTILE_TEXTS.items():
            wildcard_match(pattern, text)  # warm the cache
            median, _ = measure(_bind(wildcard_match, pattern, text), rounds)
            hostile[f"{pattern} vs {name}"] = round(median, 1)
    for permission, pattern in TYPICAL:
        evaluate(RULES, permission, pattern)
    typical = [
        measure(_bind(evaluate, RULES, permission, pattern), rounds)[0]
        for permission, pattern in TYPICAL
    ]
    return {
        "pathological_10000_us": max(v for k, v in hostile.items() if k.startswith(PATHOLOGICAL)),
        "one_chars_10000_us": max(v for k, v in hostile.items() if k.startswith(ONE_CHARS)),
        "pathological": hostile,
        "typical_decide_us": round(sum(typical) / len(typical), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2_000)
    figures = run(parser.parse_args().rounds)
    for name, median in figures["pathological"].items():
        print(f"{name:40s} median {median:9.1f} µs")
    typical = figures["typical_decide_us"]
    print(f"{f'typical pattern vs {len(RULES)} rules':40s} median {typical:9.2f} µs")


if __name__ == "__main__":
    main()

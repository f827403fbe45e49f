"""Wildcard matching cost: a pathological rule against 10,000 characters, a typical rule
set deciding typical patterns, and decisions built to be slow.

Run: ``.venv/bin/python -m benchmarks.wildcard [--rounds N]``.  The pathological figure
is the slowest median over several texts built to defeat a matcher (a backtracking regex
takes exponential time on them), and the same for a pattern of ``?`` pieces; the typical
figure is one pattern decided against the rule set (last matching rule, compiled
patterns cached as in the server, a fresh budget).  The hostile figures: one long ``?``
rule against 16,000 characters; decisions (``decide``, one budget each) of 10 and of
1,024 such rules against 5 and 256 such patterns; 45,000 rules ``z?{i}*`` (more than
the compiled-pattern cache holds) deciding one pattern; and the costliest ``?`` piece
per character, ``*a?a?…a?b*`` (4,000 runs) against ``ab`` repeated 8,000 times.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from agentactors.model import Rule
from agentactors.policy import wildcard_match
from agentactors.policy._decide import decide
from agentactors.policy._rules import evaluate

from .shell_parse import measure

PATHOLOGICAL = "*a*a*a*a*a*a*a*a*b"
ONE_CHARS = "*a?a?a?a?a?a?a?a?b*"  # pieces with "?" are searched by a regex without quantifier
ONE_CHAR_RULE = "*?" + "a" * 8_000 + "b*"
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


def _hostile(rounds: int) -> dict[str, float]:
    """The decisions built to be slow, in microseconds (medians of a few rounds)."""
    few = max(rounds // 400, 3)
    text = "a" * 16_000
    one = [Rule("bash", ONE_CHAR_RULE + str(i), "allow") for i in range(1_024)]
    many = [Rule("bash", f"z?{i}*", "allow") for i in range(45_000)]
    costly = "*" + "a?" * 4_000 + "b*"
    cases: dict[str, Callable[[], object]] = {
        "one_char_rule_16000_us": _bind(wildcard_match, ONE_CHAR_RULE, text),
        "costliest_piece_16000_us": _bind(wildcard_match, costly, "ab" * 8_000),
        "decide_10_rules_5_patterns_us": _bind(
            decide, one[:10], (), "bash", [text + str(i) for i in range(5)]
        ),
        "decide_1024_rules_256_patterns_us": _bind(
            decide, one, (), "bash", [text + str(i) for i in range(256)]
        ),
        "decide_45000_rules_us": _bind(decide, many, (), "bash", ["ls -la"]),
    }
    return {name: round(measure(case, few)[0], 1) for name, case in cases.items()}


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
        **_hostile(rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2_000)
    figures = run(parser.parse_args().rounds)
    for name, median in figures["pathological"].items():
        print(f"{name:40s} median {median:9.1f} µs")
    typical = figures["typical_decide_us"]
    print(f"{f'typical pattern vs {len(RULES)} rules':40s} median {typical:9.2f} µs")
    for name, value in figures.items():
        if name.startswith(("one_char_rule", "costliest", "decide_")):
            print(f"{name:40s} median {value:9.1f} µs")


if __name__ == "__main__":
    main()

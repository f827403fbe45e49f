"""Shell analysis cost: parse-and-decide for a typical and a 10,000-character command.

Run: ``.venv/bin/python benchmarks/shell_parse.py [--rounds N]``.  Prints medians (and
p95) of ``analyse_bash`` without its cache, with its cache, and of deciding the result
against a small rule table with the project's wildcard matcher.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from agentactors.policy import wildcard_match
from agentactors.policy.shell import _analysis as _shell

TYPICAL = "git status && ls -la | grep foo"
RULES = (("*", "ask"), ("git status", "allow"), ("ls *", "allow"), ("rm *", "deny"))
STRICT = {"allow": 0, "ask": 1, "deny": 2}


def long_command(chars: int) -> str:
    """A realistic compound command of at most ``chars`` characters."""
    parts: list[str] = []
    i = 0
    while True:
        part = f"git log --oneline -n {i} -- src/file_{i}.py | grep 'fix {i}' > out_{i}.txt"
        if len(" && ".join([*parts, part])) > chars:
            return " && ".join(parts)
        parts.append(part)
        i += 1


def decide(analysis: _shell.BashAnalysis) -> str:
    """Strictest action over every command's allow and deny text (last matching rule)."""
    effect = "allow"
    for command in analysis.commands:
        for text in (command.allow_text, command.deny_text):
            action = next((a for p, a in reversed(RULES) if wildcard_match(p, text)), "ask")
            effect = max(effect, action, key=STRICT.__getitem__)
    return "ask" if analysis.opaque and effect == "allow" else effect


def measure(run: Callable[[], object], rounds: int) -> tuple[float, float]:
    """(median, p95) in microseconds."""
    times: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1e6)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2_000)
    rounds = parser.parse_args().rounds
    big = long_command(10_000)
    cases: list[tuple[str, Callable[[], object], int]] = [
        ("typical, analyse (uncached)", lambda: _shell._analyse(TYPICAL), rounds),
        ("typical, analyse + decide (uncached)", lambda: decide(_shell._analyse(TYPICAL)), rounds),
        ("typical, analyse_bash (cache hit)", lambda: _shell.analyse_bash(TYPICAL), rounds),
        ("10,000 chars, analyse (uncached)", lambda: _shell._analyse(big), max(rounds // 40, 20)),
        (
            "10,000 chars, analyse + decide",
            lambda: decide(_shell._analyse(big)),
            max(rounds // 40, 20),
        ),
        ("display_text of 10,000 chars", lambda: _shell.display_text(big), rounds),
    ]
    analysis = _shell.analyse_bash(big)
    print(f"typical: {TYPICAL!r}")
    print(f"long: {len(big)} chars, {len(analysis.commands)} commands, opaque={analysis.opaque}")
    for name, run, n in cases:
        run()  # warm up: parser per thread, regex compilation
        median, p95 = measure(run, n)
        print(f"{name:40s} median {median:9.1f} µs   p95 {p95:9.1f} µs   ({n} rounds)")


if __name__ == "__main__":
    main()

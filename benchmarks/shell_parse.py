"""Shell analysis cost: parse-and-decide for a typical and a 10,000-character command,
and the worst shapes a request may carry.

Run: ``.venv/bin/python benchmarks/shell_parse.py [--rounds N]``.  Prints medians (and
p95) of ``analyse_bash`` without its cache, with its cache, and of deciding the result
against a small rule table with the project's wildcard matcher; then, for each hostile
shape (``a|`` repeated, ``a&&``, ``$(``, ``;``, quotes, heredocs…) at 16 KB and 64 KB
with ``rm -rf /`` hidden in it, the slowest and median analysis (uncached), whether it
was opaque, and that the ``rm *`` deny rule still saw it; last the slowest of them all.
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


HIDDEN = "rm -rf /"


def _repeat(unit: str, size: int, close: str = "", tail: str = HIDDEN) -> str:
    count = (size - len(tail)) // (len(unit) + len(close))
    return unit * count + tail + close * count


HOSTILE: dict[str, Callable[[int], str]] = {
    "a|": lambda size: _repeat("a|", size),
    "a&&": lambda size: _repeat("a&&", size),
    "a;": lambda size: _repeat("a;", size),
    ";": lambda size: _repeat(";", size),
    "newlines": lambda size: _repeat("a\n", size),
    "$( open": lambda size: _repeat("$(", size),
    "$( closed": lambda size: _repeat("$(", size, ")"),
    "backticks": lambda size: _repeat("echo `", size, "`"),
    "( closed": lambda size: _repeat("(", size, ")"),
    "quotes": lambda size: _repeat("echo 'a' \"b\" $'c'; ", size),
    '"$x" words': lambda size: "echo " + _repeat('"$x" ', size - 5, tail="; " + HIDDEN),
    "heredoc": lambda size: "cat <<EOF\n" + _repeat("l $x\n", size - 10, tail="EOF\n" + HIDDEN),
    "heredocs": lambda size: _repeat("cat <<E\nx\nE\n", size),
    "wrappers": lambda size: _repeat("sudo -u x timeout 5 ", size),
    "(a;a)|": lambda size: _repeat("(a;a)|", size),
    "distinct": lambda size: ";".join(f"a{i}" for i in range(size // 7)) + ";" + HIDDEN,
    "realistic": lambda size: long_command(size - 20) + " && " + HIDDEN,
}
HOSTILE_SIZES = (16_384, 65_536)


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
    hostile(max(rounds // 100, 5))


def hostile(rounds: int) -> float:
    """Print each hostile shape's slowest and median analysis (wall clock) and its slowest
    in CPU time (what ``_budget`` counts); return the slowest wall time (µs)."""
    worst = 0.0
    for size in HOSTILE_SIZES:
        for name, build in HOSTILE.items():
            command = build(size)
            analysis = _shell._analyse(command)
            seen = decide(analysis) == "deny"
            walls: list[float] = []
            cpus: list[float] = []
            for _ in range(rounds):
                wall, cpu = time.perf_counter(), time.thread_time()
                _shell._analyse(command)
                cpus.append((time.thread_time() - cpu) * 1e6)
                walls.append((time.perf_counter() - wall) * 1e6)
            walls.sort()
            worst = max(worst, walls[-1])
            print(
                f"{name + f', {len(command):,} chars':32s} max {walls[-1]:8.0f} µs  "
                f"median {walls[len(walls) // 2]:8.0f} µs  cpu max {max(cpus):8.0f} µs  "
                f"opaque={analysis.opaque!s:5} rm denied={seen}"
            )
    print(f"{'hostile shapes, slowest':32s} max {worst:8.0f} µs  ({rounds} rounds each)")
    return worst


if __name__ == "__main__":
    main()

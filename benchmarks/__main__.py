"""``make bench``: every performance figure, its goal, and whether it is met.

Run: ``.venv/bin/python -m benchmarks [--quick] [--only SUITE ...] [--json PATH]``.
Every process is left to the scheduler, as a default ``serve`` runs; the rows marked
"pinned" repeat the latency and throughput figures with the server (or the in-process
run) on one CPU, as ``serve --cpu`` runs it (``_cpus``).
Prints one table and writes the figures as JSON (default
``benchmarks/results/latest.json``) for comparison between runs.  ``--quick`` uses tiny
counts: the test suite runs it so the harness cannot rot (its figures mean nothing).
Every load stays on loopback and every run is bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import operator
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import trio

from agentactors.policy.shell import _analysis as shell

from . import (
    _cpus,
    cluster,
    fanout,
    hook_start,
    http_bench,
    inprocess,
    pages,
    plugin_roundtrip,
    shell_parse,
    stalled,
    wildcard,
)
from ._cpus import one_cpu, pinned


@attrs.frozen
class Goal:
    key: str  # "suite.figure.field"
    label: str
    unit: str
    limit: float
    at_most: bool = True  # False: at least


GOALS = (
    Goal("inprocess.inprocess_cycle_sequential.median_us", "in-process cycle, median", "µs", 250),
    Goal("inprocess.inprocess_cycle_sequential.p99_us", "in-process cycle, p99", "µs", 1e9),
    Goal(
        "inprocess.pinned.inprocess_cycle_sequential.median_us",
        "  the same, pinned to one CPU", "µs", 1e9,
    ),
    Goal(
        "inprocess.inprocess_cycle_concurrent.cycles_per_s",
        "in-process cycles/s, 1,000 concurrent", "/s", 5000, at_most=False,
    ),
    Goal(
        "inprocess.pinned.inprocess_cycle_concurrent.cycles_per_s",
        "  the same, pinned to one CPU", "/s", 1e9, at_most=False,
    ),
    Goal("plugin.plugin_round_trip.median_us", "plugin round trip, median", "µs", 250),
    Goal("plugin.plugin_round_trip.p99_us", "plugin round trip, p99", "µs", 1e9),
    Goal("plugin.pinned.plugin_round_trip.median_us", "  the median, pinned", "µs", 1e9),
    Goal("shell.typical_decide_us", "shell parse + decide, typical", "µs", 200),
    Goal("shell.long_decide_us", "shell parse + decide, 10,000 chars", "µs", 1e9),
    Goal("wildcard.pathological_10000_us", "*a*a*a*a*a*a*a*a*b vs 10,000 chars", "µs", 1000),
    Goal("wildcard.one_chars_10000_us", "*a?a?…?b* vs 10,000 chars", "µs", 1e9),
    Goal("wildcard.typical_decide_us", "one pattern vs 16 rules, typical", "µs", 1e9),
    Goal("wildcard.one_char_rule_16000_us", "*?a…ab* (8,002) vs 16,000 chars", "µs", 1000),
    Goal("wildcard.costliest_piece_16000_us", "*a?a?…b* (4,000 runs) vs 16,000", "µs", 1e9),
    Goal("wildcard.decide_10_rules_5_patterns_us", "10 such rules x 5 patterns", "µs", 1e9),
    Goal("wildcard.decide_1024_rules_256_patterns_us", "1,024 x 256 (budget)", "µs", 250_000),
    Goal("wildcard.decide_45000_rules_us", "45,000 rules z?{i}* x 1 (budget)", "µs", 250_000),
    Goal("http.reply.median_us", "HTTP reply POST, median", "µs", 1000),
    Goal("http.reply.p99_us", "HTTP reply POST, p99", "µs", 1e9),
    Goal("http.pinned.reply.median_us", "  the median, server pinned", "µs", 1e9),
    Goal("http.cycle.sequential.median_us", "HTTP ask->SSE->reply->released, median", "µs", 2500),
    Goal("http.cycle.sequential.cycles_per_s", "HTTP cycles/s, sequential", "/s", 1e9, False),
    Goal("http.cycle.concurrent.cycles_per_s", "HTTP cycles/s, 16 at once", "/s", 600, False),
    Goal("http.pinned.cycle.sequential.median_us", "  cycle median, server pinned", "µs", 1e9),
    Goal(
        "http.pinned.cycle.concurrent.cycles_per_s", "  cycles/s, server pinned", "/s", 1e9, False
    ),
    Goal("http.waiters.server_rss_mb_while_parked", "parked waiters: server RSS", "MB", 350),
    Goal("http.waiters.server_threads_while_parked", "parked waiters: server threads", "", 16),
    Goal("http.waiters.seconds_to_release_all", "parked waiters: release all", "s", 4),
    Goal("http.start_to_healthy_memory_state_s", "start to first healthy answer", "s", 0.5),
    Goal("http.start_to_healthy_s", "  the same, state in SQLite", "s", 1e9),
    Goal("http.idle_rss_mb", "idle resident memory", "MB", 55),
    Goal("http_store.cycle.sequential.median_us", "HTTP cycle with SQLite, median", "µs", 1e9),
    Goal("http_store.reply.median_us", "HTTP reply POST with SQLite, median", "µs", 1e9),
    Goal("fanout.p99_ms", "SSE fan-out to 1,000 subscribers, p99", "ms", 300),
    Goal("fanout.median_ms", "SSE fan-out to 1,000 subscribers, median", "ms", 1e9),
    Goal("fanout.missing", "SSE fan-out: deliveries missing", "", 0),
    Goal("stalled.rss_mb_after", "50 stalled streams, big events: server RSS", "MB", 1e9),
    Goal("stalled.stalled_cost_mb", "  RSS they cost (vs no streams)", "MB", 40),
    Goal("stalled.peak_mb_max", "  bytes one stream held, at most", "MB", 4),
    Goal("pages.list.median_us", "GET /session, 20,000 sessions: a page, median", "µs", 5000),
    Goal("pages.list.bytes", "  its size", "B", 25_000),
    Goal("pages.walk.seconds", "  every page at limit=1000, in turn", "s", 1e9),
    Goal("pages.health_idle.median_us", "health, idle, median", "µs", 1e9),
    Goal("pages.health_loaded.median_us", "health while GET /session loops, median", "µs", 3000),
    Goal("pages.health_loaded.p99_us", "  the p99", "µs", 1e9),
    Goal("hook.allowed_median_s", "hook command: spawn to answer, median", "s", 0.25),
    Goal("hook.no_server_median_s", "  the same with no server (start-up)", "s", 1e9),
    Goal("cluster.sequential.median_us", "2 processes on Ray: ask A, reply B, median", "µs", 1e9),
    Goal("cluster.sequential.cycles_per_s", "  cycles/s, sequential", "/s", 1e9, False),
    Goal("cluster.concurrent.cycles_per_s", "  cycles/s, 16 at once", "/s", 1e9, False),
    Goal("cluster.memory.head_rss_mb", "  Ray head's processes: RSS", "MB", 1e9),
    Goal("cluster.memory.workers_rss_mb", "  Ray workers (the shared host): RSS", "MB", 1e9),
)  # fmt: skip


def _inprocess(quick: bool) -> dict[str, Any]:
    cycles, concurrency = (200, 50) if quick else (5000, 1000)
    results = trio.run(inprocess.run, cycles, concurrency)
    if one_cpu() is not None:
        with pinned(one_cpu()):  # trio and the actors on one CPU, as serve --cpu (_cpus)
            results["pinned"] = trio.run(inprocess.run, cycles, concurrency)
    return results


def _plugin(quick: bool) -> dict[str, Any]:
    cycles = 100 if quick else 3000
    results = trio.run(plugin_roundtrip.run, cycles)
    if one_cpu() is not None:
        with pinned(one_cpu()):
            results["pinned"] = trio.run(plugin_roundtrip.run, cycles)
    return results


def _shell(quick: bool) -> dict[str, Any]:
    typical = shell_parse.TYPICAL
    big = shell_parse.long_command(10_000)
    rounds = 50 if quick else 2000
    typical_median, _ = shell_parse.measure(
        lambda: shell_parse.decide(shell._analyse(typical)), rounds
    )
    long_median, _ = shell_parse.measure(
        lambda: shell_parse.decide(shell._analyse(big)), max(rounds // 40, 5)
    )
    return {"typical_decide_us": round(typical_median, 1), "long_decide_us": round(long_median, 1)}


def _wildcard(quick: bool) -> dict[str, Any]:
    return wildcard.run(20 if quick else 2000)


def _http(quick: bool) -> dict[str, Any]:
    return http_bench.measure(quick, data=":memory:")


def _http_store(quick: bool) -> dict[str, Any]:
    return http_bench.measure(quick, data="data")


def _fanout(quick: bool) -> dict[str, Any]:
    return fanout.measure(quick)


def _stalled(quick: bool) -> dict[str, Any]:
    return stalled.measure(quick)


def _pages(quick: bool) -> dict[str, Any]:
    return pages.measure(quick)


def _hook(quick: bool) -> dict[str, Any]:
    return hook_start.measure(quick)


def _cluster(quick: bool) -> dict[str, Any]:
    return cluster.measure(quick)


SUITES: dict[str, Callable[[bool], dict[str, Any]]] = {
    "inprocess": _inprocess,
    "plugin": _plugin,
    "shell": _shell,
    "wildcard": _wildcard,
    "http": _http,
    "http_store": _http_store,
    "fanout": _fanout,
    "stalled": _stalled,
    "pages": _pages,
    "hook": _hook,
    "cluster": _cluster,
}


def _lookup(results: dict[str, Any], key: str) -> float | None:
    value: Any = results
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return float(value)


def table(results: dict[str, Any]) -> list[str]:
    """The printed table: figure, value, goal, met."""
    rows = [f"{'figure':42s} {'value':>12s} {'goal':>14s}  met"]
    for goal in GOALS:
        value = _lookup(results, goal.key)
        if value is None:
            continue
        compare = operator.le if goal.at_most else operator.ge
        shown_goal = "" if goal.limit >= 1e9 else f"{'≤' if goal.at_most else '≥'} {goal.limit:g}"
        met = "" if goal.limit >= 1e9 else ("yes" if compare(value, goal.limit) else "NO")
        rows.append(f"{goal.label:42s} {value:10.1f} {goal.unit:>2s} {shown_goal:>12s}  {met}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts (smoke test)")
    parser.add_argument("--only", nargs="+", choices=sorted(SUITES), help="these suites only")
    parser.add_argument("--json", default="benchmarks/results/latest.json", help="output file")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
        "quick": args.quick,
        "started": time.time(),
    }
    for name in args.only or SUITES:
        began = time.perf_counter()
        results[name] = SUITES[name](args.quick)
        results[name]["seconds"] = round(time.perf_counter() - began, 2)
    cpu = _cpus.server_cpu()
    if cpu is not None:
        print(f"'pinned' rows: the server (or the in-process run) on CPU {cpu} alone")
    print("\n".join(table(results)))
    output = Path(args.json)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"figures written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""SSE fan-out, measured from outside: one event delivered to many ``GET /event`` streams.

A real ``serve`` process (state in memory) on loopback; ``subscribers`` streams opened
over raw trio sockets with ``_client``'s lean reader (in batches: the listen backlog is
finite), each counted once it has read ``server.connected``.  Then ``events``
permissions are asked over one more connection (``POST /session/{id}/permission``, no
wait, a unique pattern each); each ask publishes one ``permission.asked``.  The next ask
waits until the one before has reached every stream, then ``interval`` seconds more, so
the figure is the delivery latency of one event, not a backlog (``--fixed-rate``: one
ask every ``interval`` seconds whatever the deliveries, which measures the backlog once
the server cannot keep up).

Delivery latency, per event and subscriber: the time that subscriber parsed the event
minus the time just before its ask was sent (one client process, ``time.perf_counter``).
Figures: the delivered count (``missing`` if short of ``subscribers * events``), the
median, p99 and max latency in ms, the server's resident memory and threads while the
streams are open, and the seconds to connect them all.

The client is one Python process parsing every stream, so it could be the bottleneck:
the figures also give the CPU time each side spent while publishing (``*_cpu_share``: a
share of one core, near 1.0 when saturated; ``*_cpu_us_per_delivery``), and the median
spread from an event's first delivery to its last.  The client is kept lean: the
client's incremental SSE parser, then string searches in each event's data, JSON parsing
only as a fallback for an odd ``permission.asked``.

Run: ``.venv/bin/python -m benchmarks.fanout [--quick] [--subscribers N] [--events M]
[--interval-ms MS] [--fixed-rate]``.  Loopback only; every loop is bounded in count and
every wait in time (``trio.fail_after``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from typing import Any

import attrs
import trio

from ._client import Client, EventStream
from ._stats import percentile
from .http_bench import _one, proc_status, start_server, stop_server

CONNECT_BATCH = 100  # streams being opened at once (each held until server.connected)
PREFIX = "fanout-"  # the asked patterns: PREFIX + the event's index
_ASKED = '"permission.asked"'
_LAGGED = '"bus.lagged"'
_PATTERN = '"patterns":["' + PREFIX
_TICKS = os.sysconf("SC_CLK_TCK")


@attrs.frozen
class Plan:
    """What to measure: streams, events, the pause between events, and how long to wait
    after the last ask for its deliveries."""

    subscribers: int
    events: int
    interval: float = 0.02  # s
    fixed_rate: bool = False  # one ask every interval, delivered or not
    settle: float = 10.0  # s


class Tally:
    """Streams subscribed and events delivered, across all subscribers."""

    def __init__(self, subscribers: int, expected: int) -> None:
        self.subscribers = subscribers
        self.expected = expected
        self.connected = 0
        self.delivered = 0
        self.lagged = 0
        self.all_connected = trio.Event()
        self.target = expected
        self._reached = trio.Event()

    def connect(self) -> None:
        self.connected += 1
        if self.connected == self.subscribers:
            self.all_connected.set()

    def deliver(self) -> None:
        self.delivered += 1
        if self.delivered >= self.target:
            self._reached.set()

    async def reached(self, count: int) -> None:
        """Wait until ``count`` deliveries in all (``count`` above the ones so far)."""
        self.target, self._reached = count, trio.Event()
        if self.delivered < count:
            await self._reached.wait()


def _index(data: str) -> int:
    """The event index in a ``permission.asked`` event's data (its pattern
    ``PREFIX<index>``)."""
    start = data.find(_PATTERN)
    if start >= 0:
        start += len(_PATTERN)
        return int(data[start : data.index('"', start)])
    return int(json.loads(data)["properties"]["patterns"][0].removeprefix(PREFIX))  # unusual


async def _subscribe(
    port: int, limit: trio.Semaphore, tally: Tally, arrivals: list[tuple[int, float]]
) -> None:
    """One ``GET /event`` stream: count it once ``server.connected`` is read, then note
    ``(event index, perf_counter)`` for every ``permission.asked``.  Runs until cancelled."""
    await limit.acquire()  # released once subscribed: connect in batches
    subscribing = True
    stream = EventStream(port)
    try:
        await stream.open()
        async for events in stream.events():
            now = time.perf_counter()
            for event in events:
                data = event.data
                if subscribing:  # the first event: server.connected
                    subscribing = False
                    limit.release()
                    tally.connect()
                elif _ASKED in data:
                    arrivals.append((_index(data), now))
                    tally.deliver()
                elif _LAGGED in data:
                    tally.lagged += 1
    finally:
        await stream.aclose()
        if subscribing:
            limit.release()


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


async def _publish(port: int, session: str, tally: Tally, plan: Plan) -> list[float]:
    """Ask ``plan.events`` permissions; the send time of each.  Each ask waits for the one
    before to reach every stream (at most 5 s), then ``plan.interval`` s more;
    ``plan.fixed_rate``: one ask every ``plan.interval`` s whatever the deliveries."""
    asker = Client(port)
    sent: list[float] = []
    began = time.perf_counter()
    try:
        for index in range(plan.events):
            if plan.fixed_rate:
                await trio.sleep(max(0.0, began + index * plan.interval - time.perf_counter()))
            elif index:
                with trio.move_on_after(5):
                    await tally.reached(index * plan.subscribers)
                await trio.sleep(plan.interval)
            body = {"permission": "bash", "patterns": [f"{PREFIX}{index}"]}
            sent.append(time.perf_counter())
            status, asked = await asker.request("POST", f"/session/{session}/permission", body)
            assert status == 200, asked
    finally:
        await asker.aclose()
    return sent


async def run(port: int, pid: int, plan: Plan) -> dict[str, Any]:
    """Open the streams, publish, wait (at most ``plan.settle`` s after the last ask) for
    every delivery, and summarise.  Bounded: ``trio.fail_after``."""
    subscribers, events, interval = plan.subscribers, plan.events, plan.interval
    status, created = await _one(port, "POST", "/session", {"title": "fanout"})
    assert status == 200, created
    session = str(created["id"])
    tally = Tally(subscribers, subscribers * events)
    arrivals: list[list[tuple[int, float]]] = [[] for _ in range(subscribers)]
    limit = trio.Semaphore(CONNECT_BATCH)
    with trio.fail_after(60 + subscribers / 20 + events * (interval + 5) + plan.settle):
        async with trio.open_nursery() as nursery:
            began = time.perf_counter()
            for mine in arrivals:
                nursery.start_soon(_subscribe, port, limit, tally, mine)
            await tally.all_connected.wait()
            connect_s = time.perf_counter() - began
            await trio.sleep(0.3)  # let the connection burst settle
            held = proc_status(pid)
            server_cpu, client_cpu = _cpu_s(pid), time.process_time()
            published = time.perf_counter()
            sent = await _publish(port, session, tally, plan)
            with trio.move_on_after(plan.settle):
                await tally.reached(tally.expected)
            wall = time.perf_counter() - published
            server_cpu, client_cpu = _cpu_s(pid) - server_cpu, time.process_time() - client_cpu
            nursery.cancel_scope.cancel()
    latencies: list[float] = []
    first = [float("inf")] * events
    last = [0.0] * events
    distinct = 0
    for mine in arrivals:
        distinct += len({index for index, _ in mine})
        for index, at in mine:
            latencies.append(at - sent[index])
            first[index], last[index] = min(first[index], at), max(last[index], at)
    delivered = [i for i in range(events) if last[i] >= first[i]]
    firsts = [first[i] - sent[i] for i in delivered]  # the ask, and the first stream's write
    spreads = [last[i] - first[i] for i in delivered]  # the fan-out
    return {
        "subscribers": subscribers,
        "events": events,
        "interval_ms": round(interval * 1000, 1),
        "fixed_rate": plan.fixed_rate,
        "delivered": distinct,
        "missing": subscribers * events - distinct,
        "lagged_notices": tally.lagged,
        "median_ms": round(statistics.median(latencies) * 1000, 2) if latencies else 0.0,
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies, default=0.0) * 1000, 2),
        "first_median_ms": round(statistics.median(firsts) * 1000, 2) if firsts else 0.0,
        "spread_median_ms": round(statistics.median(spreads) * 1000, 2) if spreads else 0.0,
        "server_rss_mb_while_subscribed": held["rss_mb"],
        "server_threads_while_subscribed": held["threads"],
        "seconds_to_connect_all": round(connect_s, 2),
        "server_cpu_share": round(server_cpu / wall, 2),
        "client_cpu_share": round(client_cpu / wall, 2),
        "server_cpu_us_per_delivery": round(server_cpu / max(distinct, 1) * 1e6, 1),
        "client_cpu_us_per_delivery": round(client_cpu / max(distinct, 1) * 1e6, 1),
    }


def measure(
    quick: bool = False,
    *,
    subscribers: int | None = None,
    events: int | None = None,
    interval: float = 0.02,
    fixed_rate: bool = False,
) -> dict[str, Any]:
    """The fan-out figures (see the module doc) against a fresh ``serve`` process.
    ``quick``: 20 subscribers and 5 events (a smoke test); else 1,000 and 30."""
    plan = Plan(
        subscribers or (20 if quick else 1000), events or (5 if quick else 30), interval, fixed_rate
    )
    with tempfile.TemporaryDirectory() as directory:
        process, port, _ = start_server(directory, ":memory:")
        try:
            return trio.run(run, port, process.pid, plan)
        finally:
            stop_server(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts (smoke test)")
    parser.add_argument("--subscribers", type=int, help="streams (default 1,000; quick 20)")
    parser.add_argument("--events", type=int, help="events published (default 30; quick 5)")
    parser.add_argument(
        "--interval-ms", type=float, default=20.0, help="pause after each event is delivered"
    )
    parser.add_argument(
        "--fixed-rate", action="store_true", help="one ask every interval, delivered or not"
    )
    args = parser.parse_args()
    figures = measure(
        args.quick,
        subscribers=args.subscribers,
        events=args.events,
        interval=args.interval_ms / 1000,
        fixed_rate=args.fixed_rate,
    )
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

"""A long list served in pages, measured from outside: a real ``serve`` subprocess
holding ``sessions`` sessions in its directory (state in memory: the list is served
from memory either way).

Figures:

* ``list``: ``GET /session`` (the default page) one at a time: latency (median, p99)
  and the answer's size in bytes.
* ``walk``: every session, following ``x-next-cursor`` from the first page to the last
  at the largest page (``limit=1000``; 100 with ``--quick``): the pages, the seconds,
  and whether every session came exactly once.
* ``health_idle`` / ``health_loaded``: ``GET /global/health`` latency (median, p99) on
  the idle server, then while one other client loops ``GET /session`` as fast as it is
  answered (``lists_per_s``: how fast that was).

Run: ``.venv/bin/python -m benchmarks --only pages`` (or ``python -m benchmarks.pages
[--quick]``).  Loopback only; every loop is bounded in count.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from typing import Any

import trio

from ._client import Client
from ._stats import summary_us
from .http_bench import start_server, stop_server

CREATORS = 8
"""Connections creating the sessions at once."""


async def create_sessions(port: int, count: int) -> None:
    """``count`` sessions in the server's directory, over ``CREATORS`` connections."""

    async def creator(share: int) -> None:
        client = Client(port)
        for _ in range(share):
            status, answer = await client.request("POST", "/session", {"title": "bench"})
            assert status == 200, answer
        await client.aclose()

    async with trio.open_nursery() as nursery:
        for index in range(CREATORS):
            nursery.start_soon(creator, count // CREATORS + (index < count % CREATORS))


async def measure_list(port: int, rounds: int) -> dict[str, Any]:
    client = Client(port)
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        status, page = await client.request("GET", "/session")
        samples.append(time.perf_counter() - began)
        assert status == 200, page
    size, rows = client.size, len(page)
    await client.aclose()
    return {**summary_us(samples), "bytes": size, "rows": rows}


async def measure_walk(port: int, count: int, limit: int) -> dict[str, Any]:
    client = Client(port)
    seen: list[str] = []
    pages, path = 0, f"/session?limit={limit}"
    began = time.perf_counter()
    while True:
        status, page = await client.request("GET", path)
        assert status == 200, page
        pages += 1
        seen += [session["id"] for session in page]
        cursor = client.headers.get("x-next-cursor")
        if cursor is None:
            break
        path = f"/session?limit={limit}&cursor={cursor}"
    seconds = time.perf_counter() - began
    await client.aclose()
    return {
        "pages": pages,
        "seconds": round(seconds, 3),
        "each_once": len(seen) == len(set(seen)) == count,
    }


async def measure_health(port: int, rounds: int, *, loaded: bool) -> dict[str, Any]:
    """Health latency; with ``loaded``, while another connection loops ``GET /session``."""
    lists = 0
    looping = trio.Event()

    async def looper() -> None:
        nonlocal lists
        client = Client(port)
        try:
            while True:
                status, _ = await client.request("GET", "/session")
                assert status == 200
                lists += 1
                looping.set()
        finally:
            await client.aclose()

    client = Client(port)
    samples = []
    async with trio.open_nursery() as nursery:
        if loaded:
            nursery.start_soon(looper)
            await looping.wait()
        lists, began = 0, time.perf_counter()
        for _ in range(rounds):
            start = time.perf_counter()
            status, _ = await client.request("GET", "/global/health")
            samples.append(time.perf_counter() - start)
            assert status == 200
        wall = time.perf_counter() - began
        nursery.cancel_scope.cancel()
    await client.aclose()
    figures: dict[str, Any] = summary_us(samples)
    if loaded:
        figures["lists_per_s"] = round(lists / wall, 1)
    return figures


async def _run(port: int, sessions: int, rounds: int, limit: int) -> dict[str, Any]:
    began = time.perf_counter()
    await create_sessions(port, sessions)
    created = time.perf_counter() - began
    return {
        "sessions": sessions,
        "seconds_to_create": round(created, 1),
        "list": await measure_list(port, rounds),
        "walk": await measure_walk(port, sessions, limit),
        "health_idle": await measure_health(port, rounds * 4, loaded=False),
        "health_loaded": await measure_health(port, rounds * 4, loaded=True),
    }


def measure(quick: bool = False) -> dict[str, Any]:
    """Every figure (see the module doc); ``quick``: tiny counts, for a smoke test."""
    sessions, rounds, limit = (300, 10, 100) if quick else (20_000, 100, 1000)
    with tempfile.TemporaryDirectory() as directory:
        process, port, _ = start_server(directory, ":memory:")
        try:
            return trio.run(_run, port, sessions, rounds, limit)
        finally:
            stop_server(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts (smoke test)")
    args = parser.parse_args()
    print(json.dumps(measure(args.quick), indent=2))


if __name__ == "__main__":
    main()

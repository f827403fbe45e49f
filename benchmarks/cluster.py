"""Two ``serve --cluster`` processes on one local Ray head: the cross-process cycle.

Each cycle asks on one process (``POST .../permission``, pending), waits on it
(``GET /permission/{id}/wait``) and replies on the other; the cycle ends when the wait
answers.  Sequential cycles give the median; ``concurrency`` cyclers at once (half
asking on A and replying on B, half the other way) give cycles/s.  Then the resident
memory of the Ray head's processes and of its workers (the shared host among them).

Run: ``.venv/bin/python -m benchmarks.cluster [--quick]`` (skipped without Ray).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import time
from typing import Any

import trio

from ._client import Client
from ._ray_head import local_head, tree_rss_mb
from ._stats import summary_us
from .http_bench import proc_status, start_server, stop_server


async def _session(port: int) -> str:
    client = Client(port)
    try:
        status, session = await client.request("POST", "/session", {})
    finally:
        await client.aclose()
    assert status == 200, session
    return str(session["id"])


async def _cycles(
    ports: tuple[int, int], session: str, count: int, samples: list[float], flip: bool
) -> None:
    ask_port, reply_port = reversed(ports) if flip else ports
    asker, waiter, replier = Client(ask_port), Client(ask_port), Client(reply_port)
    body = {"permission": "bash", "patterns": ["make deploy"]}
    try:
        for _ in range(count):
            began = time.perf_counter()
            status, asked = await asker.request("POST", f"/session/{session}/permission", body)
            assert status == 200, asked
            request_id = asked["id"]
            async with trio.open_nursery() as nursery:
                nursery.start_soon(waiter.request, "GET", f"/permission/{request_id}/wait")
                status, _ = await replier.request(
                    "POST", f"/permission/{request_id}/reply", {"reply": "once"}
                )
                assert status == 200
            samples.append(time.perf_counter() - began)
    finally:
        for client in (asker, waiter, replier):
            await client.aclose()


async def run(ports: tuple[int, int], count: int, concurrency: int) -> dict[str, Any]:
    session = await _session(ports[0])
    await _cycles(ports, session, max(count // 10, 5), [], False)  # warm-up
    sequential: list[float] = []
    await _cycles(ports, session, count, sequential, False)
    concurrent: list[float] = []
    began = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for worker in range(concurrency):
            nursery.start_soon(
                _cycles, ports, session, count // concurrency, concurrent, bool(worker % 2)
            )
    wall = time.perf_counter() - began
    return {
        "sequential": {
            **summary_us(sequential),
            "cycles_per_s": round(len(sequential) / sum(sequential)),
        },
        "concurrent": {
            **summary_us(concurrent),
            "cycles_per_s": round(len(concurrent) / wall),
            "concurrency": concurrency,
        },
    }


def measure(quick: bool = False) -> dict[str, Any]:
    """The figures, or ``{"skipped": why}`` where Ray is not installed."""
    if importlib.util.find_spec("ray") is None:
        return {"skipped": "Ray is not installed (pip install 'agentactors[ray]')"}
    count, concurrency = (20, 4) if quick else (1000, 16)
    with local_head() as head, tempfile.TemporaryDirectory(prefix="aa-bench-") as directory:
        extra = ("--cluster", head.address)
        a, a_port, a_start = start_server(directory, "data", extra=extra)
        try:
            b, b_port, b_start = start_server(directory, "data", extra=extra)
            try:
                figures = trio.run(run, (a_port, b_port), count, concurrency)
                figures["memory"] = {
                    **tree_rss_mb(head.process.pid),
                    "serve_a_rss_mb": proc_status(a.pid)["rss_mb"],
                    "serve_b_rss_mb": proc_status(b.pid)["rss_mb"],
                }
                figures["start_to_healthy_s"] = round(max(a_start, b_start), 2)
            finally:
                stop_server(b)
        finally:
            stop_server(a)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(measure(parser.parse_args().quick), indent=2))


if __name__ == "__main__":
    main()

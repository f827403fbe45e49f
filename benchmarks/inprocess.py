"""In-process ask -> reply -> asker released, through the real services.

Sequential: one asker asks (``api.ask_and_wait``, the path of ``?wait=true`` and the
client's waiting ask) with a pre-assigned id, a replier task replies to that id, and the
asker is released; latency is from the ask to the asker's release.  Concurrent:
``concurrency`` askers ask at once and ``concurrency // 10`` repliers answer each id as
it arrives; throughput is cycles over wall time.

Run: ``.venv/bin/python -m benchmarks.inprocess [--cycles N] [--concurrency N]``.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import trio

from agentactors.actors import api, start_services, stop_services
from agentactors.actors.store import MemoryState
from agentactors.model import new_id
from agentactors.policy import Config

from ._stats import summary_us


async def _sequential(session_id: str, cycles: int) -> list[float]:
    samples = []
    send, receive = trio.open_memory_channel[str](0)

    async def replier() -> None:
        async for request_id in receive:
            await api.reply(request_id, "once")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(replier)
        for _ in range(cycles):
            start = time.perf_counter()
            request_id = new_id("per")
            nursery.start_soon(send.send, request_id)  # the replier learns the id
            await api.ask_and_wait(session_id, "bash", ["make deploy"], request_id=request_id)
            samples.append(time.perf_counter() - start)
        await send.aclose()
    return samples


async def _concurrent(session_id: str, cycles: int, concurrency: int) -> tuple[list[float], float]:
    samples: list[float] = []
    send, receive = trio.open_memory_channel[str](concurrency)
    remaining = cycles

    async def asker(nursery: trio.Nursery) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            start = time.perf_counter()
            request_id = new_id("per")
            nursery.start_soon(send.send, request_id)  # runs once the ask is posted
            await api.ask_and_wait(session_id, "bash", ["make deploy"], request_id=request_id)
            samples.append(time.perf_counter() - start)

    async def replier() -> None:
        async for request_id in receive:
            await api.reply(request_id, "once")

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(max(1, concurrency // 10)):  # replies come from many clients too
            nursery.start_soon(replier)
        async with trio.open_nursery() as askers:
            for _ in range(concurrency):
                askers.start_soon(asker, nursery)
        await send.aclose()
    return samples, time.perf_counter() - start


async def run(cycles: int = 5000, concurrency: int = 1000) -> dict[str, Any]:
    """Measure both modes; returns the figures (microseconds, cycles per second)."""
    start_services(Config(read_project_files=False, reject_cascade=False), state=MemoryState())
    try:
        session = await api.create_session("/bench")
        await _sequential(session.id, min(500, cycles))  # warm up
        sequential = await _sequential(session.id, cycles)
        samples, wall = await _concurrent(session.id, cycles, concurrency)
    finally:
        stop_services()
    return {
        "inprocess_cycle_sequential": {
            **summary_us(sequential),
            "cycles_per_s": round(len(sequential) / sum(sequential)),
        },
        "inprocess_cycle_concurrent": {
            **summary_us(samples),
            "cycles_per_s": round(len(samples) / wall),
            "concurrency": concurrency,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=1000)
    args = parser.parse_args()
    print(json.dumps(trio.run(run, args.cycles, args.concurrency), indent=2))


if __name__ == "__main__":
    main()

"""The HTTP server, measured from outside: a real ``serve`` subprocess on loopback, driven
by lean raw connections over trio sockets (``_client``: httptools; not httpx or h11,
which cost the client more CPU than the server spends).

Figures:

* ``start``: process spawn to the first healthy ``/global/health`` answer (median of a
  few starts), and the idle resident memory (``VmRSS``) after it.
* ``reply``: ``POST /permission/{id}/reply`` latency (median, p99), one connection, the
  request asked just before over another.
* ``cycle``: ask with ``?wait=true`` -> ``permission.asked`` seen on ``/event`` -> reply
  -> the asker's answer; median and p99 one at a time, and cycles/s with ``concurrency``
  askers at once.
* ``waiters``: ``waiters`` asks parked with ``?wait=true`` at once: the server's resident
  memory and thread count while they wait, then the time from one
  ``POST /session/{id}/abort`` to the last asker's answer.

Run: ``.venv/bin/python -m benchmarks.http_bench [--quick]``.  Loopback only; every loop
is bounded in count, and every wait in time.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import trio

from agentactors.client import SseEvent

from ._client import HOST, Client, EventStream
from ._cpus import client_cpus, pinned, server_cpu
from ._stats import summary_us


class Events:
    """``GET /event`` read event by event; ``waiting`` routes each asked id by pattern."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.waiting: dict[str, trio.MemorySendChannel[str]] = {}

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        stream = EventStream(self.port)
        try:
            await stream.open()
            started = False
            async for events in stream.events():
                if not started:
                    started = True
                    task_status.started()  # server.connected (the first): subscribed
                for event in events:
                    self._dispatch(event)
        finally:
            await stream.aclose()

    def _dispatch(self, event: SseEvent) -> None:
        if '"permission.asked"' in event.data:
            properties = json.loads(event.data)["properties"]
            channel = self.waiting.pop(properties["patterns"][0], None)
            if channel is not None:
                channel.send_nowait(properties["id"])


# --- the server process --------------------------------------------------------------------


def start_server(
    directory: str, data: str = "data", cpu: int | None = None, extra: tuple[str, ...] = ()
) -> tuple[subprocess.Popen[bytes], int, float]:
    """Spawn ``serve --port 0`` with its state in ``directory/data`` (SQLite; ``:memory:``
    for none), on ``cpu`` if given (``--cpu``), with ``extra`` options; returns the
    process, its port and the seconds from spawn to its first healthy answer.  Blocks
    (bounded: 30 s once it listens)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("AGENTACTORS_SERVER_PASSWORD", None)
    state = data if data == ":memory:" else os.path.join(directory, data)
    command = [sys.executable, "-m", "agentactors", "serve", "--port", "0"]
    command += ["--directory", directory, "--data-dir", state]
    command += [] if cpu is None else ["--cpu", str(cpu)]
    command += extra
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env)
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    if not line.startswith("agentactors listening on"):
        process.kill()
        process.wait()
        process.stdout.close()
        raise RuntimeError(f"the server did not start: {line!r}")
    port = int(line.split()[3].rsplit(":", 1)[1])
    with socket.create_connection((HOST, port), timeout=30) as probe:  # no trio start-up here
        probe.sendall(f"GET /global/health HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode())
        answer = probe.recv(4096)
    healthy = time.perf_counter() - began
    assert answer.startswith(b"HTTP/1.1 200"), answer
    return process, port, healthy


async def _one(port: int, method: str, path: str, body: Any) -> tuple[int, Any]:
    connection = Client(port)
    try:
        return await connection.request(method, path, body)
    finally:
        await connection.aclose()


def proc_status(pid: int) -> dict[str, int]:
    """Resident memory (MB) and thread count of a process, from /proc."""
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        fields = dict(line.split(":", 1) for line in status)
    return {
        "rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024),
        "threads": int(fields["Threads"]),
    }


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop gracefully (SIGTERM), kill after 15 s; close its pipe."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


# --- the measurements ----------------------------------------------------------------------


async def _session(port: int) -> str:
    status, session = await _one(port, "POST", "/session", {"title": "bench"})
    assert status == 200, session
    return str(session["id"])


async def measure_replies(port: int, count: int) -> dict[str, float]:
    session = await _session(port)
    asker, replier = Client(port), Client(port)
    samples = []
    for index in range(count):
        body = {"permission": "bash", "patterns": [f"r{index}"]}
        _, asked = await asker.request("POST", f"/session/{session}/permission", body)
        began = time.perf_counter()
        status, _ = await replier.request(
            "POST", f"/permission/{asked['id']}/reply", {"reply": "once"}
        )
        samples.append(time.perf_counter() - began)
        assert status == 200
    await asker.aclose()
    await replier.aclose()
    return summary_us(samples)


async def measure_cycles(port: int, count: int, concurrency: int) -> dict[str, Any]:
    session = await _session(port)
    events = Events(port)
    sequential: list[float] = []
    concurrent: list[float] = []

    async def cycler(name: str, cycles: int, samples: list[float]) -> None:
        asker, replier = Client(port), Client(port)
        for index in range(cycles):
            pattern = f"{name}-{index}"
            send, receive = trio.open_memory_channel[str](1)
            events.waiting[pattern] = send
            began = time.perf_counter()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_ask_held, asker, session, pattern)
                request_id = await receive.receive()
                status, _ = await replier.request(
                    "POST", f"/permission/{request_id}/reply", {"reply": "once"}
                )
                assert status == 200
            samples.append(time.perf_counter() - began)
        await asker.aclose()
        await replier.aclose()

    async with trio.open_nursery() as nursery:
        await nursery.start(events.run)
        await cycler("s", count, sequential)
        began = time.perf_counter()
        async with trio.open_nursery() as cyclers:
            for worker in range(concurrency):
                cyclers.start_soon(cycler, f"c{worker}", count // concurrency, concurrent)
        wall = time.perf_counter() - began
        nursery.cancel_scope.cancel()
    sequential_rate = round(len(sequential) / sum(sequential))
    return {
        "sequential": {**summary_us(sequential), "cycles_per_s": sequential_rate},
        "concurrent": {
            **summary_us(concurrent),
            "cycles_per_s": round(len(concurrent) / wall),
            "concurrency": concurrency,
        },
    }


async def _ask_held(asker: Client, session: str, pattern: str) -> None:
    body = {"permission": "bash", "patterns": [pattern]}
    status, final = await asker.request("POST", f"/session/{session}/permission?wait=true", body)
    assert status == 200, final
    assert final["state"] != "pending", final


async def measure_waiters(port: int, pid: int, count: int) -> dict[str, Any]:
    session = await _session(port)
    events = Events(port)
    parked = trio.Semaphore(0)
    answered: list[float] = []
    path = f"/session/{session}/permission?wait=true"

    async def wait_one(index: int, limit: trio.Semaphore) -> None:
        connection = Client(port)
        async with limit:  # connect in batches: the listen backlog is finite
            await connection.connect()
        status, final = await connection.request(
            "POST", path, {"permission": "bash", "patterns": [f"w{index}"]}
        )
        answered.append(time.perf_counter())
        assert status == 200, final
        assert final["state"] == "aborted", final
        await connection.aclose()

    counted = 0  # asked events seen (parked.release() once per parked request)

    def count_asked(event: SseEvent) -> None:
        nonlocal counted
        if '"permission.asked"' in event.data:
            counted += 1
            parked.release()
        elif '"bus.lagged"' in event.data:  # the stream fell behind the burst: count those too
            for _ in range(json.loads(event.data)["properties"]["dropped"]):
                parked.release()

    events._dispatch = count_asked  # type: ignore[method-assign] # count, not route
    async with trio.open_nursery() as nursery:
        await nursery.start(events.run)
        limit = trio.Semaphore(500)
        began = time.perf_counter()
        async with trio.open_nursery() as waiters:
            for index in range(count):
                waiters.start_soon(wait_one, index, limit)
            for _ in range(count):
                await parked.acquire()
            parked_s = time.perf_counter() - began
            held = proc_status(pid)
            released_at = time.perf_counter()
            status, _ = await _one(port, "POST", f"/session/{session}/abort", None)
            assert status == 200
        nursery.cancel_scope.cancel()
    return {
        "count": count,
        "seconds_to_park": round(parked_s, 2),
        "server_rss_mb_while_parked": held["rss_mb"],
        "server_threads_while_parked": held["threads"],
        "seconds_to_release_all": round(max(answered) - released_at, 3),
    }


def _timed(label: str, fn: Callable[[], Any]) -> Any:
    began = time.perf_counter()
    result = fn()
    print(f"# {label}: {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return result


def measure(quick: bool = False, *, data: str = "data") -> dict[str, Any]:
    """Every figure (see the module doc), then the replies and cycles once more with
    the server on its own CPU (``serve --cpu``) and the load generator on the others
    (``pinned``; see ``_cpus``).  ``quick``: tiny counts, for a smoke test; ``data``:
    the server's state (``data``: SQLite in a temporary dir; ``:memory:``)."""
    results = _measure(quick, data)
    cpu = server_cpu()
    if cpu is not None:
        replies, cycles = (50, 50) if quick else (2000, 2000)
        with tempfile.TemporaryDirectory() as directory:
            process, port, _ = start_server(directory, data, cpu)  # before pinning this one
            try:
                with pinned(client_cpus()):
                    results["pinned"] = {
                        "server_cpu": cpu,
                        "reply": _timed(
                            "replies, pinned", lambda: trio.run(measure_replies, port, replies)
                        ),
                        "cycle": _timed(
                            "cycles, pinned", lambda: trio.run(measure_cycles, port, cycles, 16)
                        ),
                    }
            finally:
                stop_server(process)
    return results


def _measure(quick: bool, data: str) -> dict[str, Any]:
    replies, cycles, concurrency, waiters = (50, 50, 5, 200) if quick else (3000, 3000, 16, 10_000)
    with tempfile.TemporaryDirectory() as directory:
        starts: dict[str, list[float]] = {"data": [], ":memory:": []}
        for _ in range(2 if quick else 9):  # start-up varies a lot here: 9 each
            for state, samples in starts.items():
                process, _, healthy = start_server(directory, state)
                samples.append(healthy)
                stop_server(process)
        process, port, _ = start_server(directory, data)
        try:
            time.sleep(0.5)  # let start-up garbage settle before reading idle memory
            idle = proc_status(process.pid)
            results: dict[str, Any] = {
                "start_to_healthy_s": round(statistics.median(starts["data"]), 3),
                "start_to_healthy_memory_state_s": round(statistics.median(starts[":memory:"]), 3),
                "idle_rss_mb": idle["rss_mb"],
                "idle_threads": idle["threads"],
            }
            results["reply"] = _timed("replies", lambda: trio.run(measure_replies, port, replies))
            results["cycle"] = _timed(
                "cycles", lambda: trio.run(measure_cycles, port, cycles, concurrency)
            )
        finally:
            stop_server(process)
        process, port, _ = start_server(directory, data)  # a fresh process: memory figure
        try:
            results["waiters"] = _timed(
                "waiters", lambda: trio.run(measure_waiters, port, process.pid, waiters)
            )
        finally:
            stop_server(process)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts (smoke test)")
    parser.add_argument("--memory", action="store_true", help="state in memory, not SQLite")
    args = parser.parse_args()
    print(json.dumps(measure(args.quick, data=":memory:" if args.memory else "data"), indent=2))


if __name__ == "__main__":
    main()

"""Stalled SSE streams and big events, measured from outside: the server's memory stays
bounded however far its streams' clients fall behind.

A real ``serve`` process (state in memory) on loopback.  ``streams`` clients each open
``GET /event`` over a socket with a small receive buffer (``SO_RCVBUF`` 4 KiB), read the
answer's head and ``server.connected``, then never read again.  Then ``events``
permissions are asked by :data:`ASKERS` clients at once (so events come in bursts, as
from many agents), each ask with ``blob_kb`` KiB of metadata, and rejected at once (so
none stays pending): each ask publishes one big ``permission.asked`` that every stream
must hold or drop.  The same run is made with no stream open, as the baseline: what the
server keeps anyway (recent events for Last-Event-ID replay, its cache of encoded
events, the finished requests).

Figures per run: the server's resident memory (MB) before the asks and after them, its
growth, and from ``GET /debug/streams`` the bytes the streams hold (sum and largest),
the most any one ever held, its cap and the events they dropped.  ``stalled_cost_mb`` is
the growth with the streams minus the growth without: what the stalled streams cost.

Run: ``.venv/bin/python -m benchmarks.stalled [--quick] [--streams N] [--events M]
[--blob-kb K]``.  Loopback only; every wait is bounded (``trio.fail_after``).
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
from typing import Any

import trio

from ._client import HOST, Client
from .http_bench import _one, proc_status, start_server, stop_server

_CONNECTED = b'"server.connected"'
ASKERS = 16


async def _stall(port: int, opened: trio.Semaphore, sockets: list[trio.SocketStream]) -> None:
    """Open one stream, read up to ``server.connected``, keep its socket unread."""
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await sock.connect((HOST, port))
    stream = trio.SocketStream(sock)
    sockets.append(stream)
    await stream.send_all(f"GET /event HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode())
    seen = b""
    while _CONNECTED not in seen:
        chunk = await stream.receive_some(4096)
        if not chunk:
            raise ConnectionError(f"the stream ended: {seen[:200]!r}")
        seen += chunk
    opened.release()


async def _asker(port: int, indices: range, blob: str) -> None:
    """Ask and reject, in a session of its own (a reject ends the session's others)."""
    client = Client(port)
    try:
        status, created = await client.request("POST", "/session", {"title": "stalled"})
        assert status == 200, created
        path = f"/session/{created['id']}/permission"
        for index in indices:
            body = {
                "permission": "bench",
                "patterns": [f"stalled-{index}"],
                "metadata": {"blob": blob},
            }
            status, asked = await client.request("POST", path, body)
            assert status == 200, str(asked)[:300]
            status, replied = await client.request(
                "POST", f"/permission/{asked['id']}/reply", {"reply": "reject"}
            )
            assert status == 200, str(replied)[:300]
    finally:
        await client.aclose()


async def _ask_and_reject(port: int, events: int, blob: str) -> None:
    async with trio.open_nursery() as nursery:
        for first in range(ASKERS):
            nursery.start_soon(_asker, port, range(first, events, ASKERS), blob)


async def run(port: int, pid: int, streams: int, events: int, blob_kb: int) -> dict[str, Any]:
    """Open the stalled streams, measure, ask, measure.  Bounded in time."""
    sockets: list[trio.SocketStream] = []
    opened = trio.Semaphore(0)
    with trio.fail_after(60 + streams + events):
        async with trio.open_nursery() as nursery:
            for _ in range(streams):
                nursery.start_soon(_stall, port, opened, sockets)
            for _ in range(streams):
                await opened.acquire()
        before = proc_status(pid)["rss_mb"]
        await _ask_and_reject(port, events, "x" * (blob_kb << 10))
        after = proc_status(pid)["rss_mb"]
        status, listed = await _one(port, "GET", "/debug/streams", None)
        for stream in sockets:
            await stream.aclose()
    figures: dict[str, Any] = {
        "streams": streams,
        "events": events,
        "blob_kb": blob_kb,
        "rss_mb_before": before,
        "rss_mb_after": after,
        "rss_growth_mb": after - before,
    }
    if status == 200 and listed["streams"]:  # (a server without /debug/streams: no figures)
        held = [s["heldBytes"] for s in listed["streams"]]
        figures["held_mb_sum"] = round(sum(held) / 2**20, 1)
        figures["held_mb_max"] = round(max(held) / 2**20, 2)
        figures["peak_mb_max"] = round(max(s["peakBytes"] for s in listed["streams"]) / 2**20, 2)
        figures["cap_mb"] = round(listed["streams"][0]["maxBytes"] / 2**20, 2)
        figures["dropped"] = sum(s["dropped"] for s in listed["streams"])
    return figures


def _once(streams: int, events: int, blob_kb: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        process, port, _ = start_server(directory, ":memory:")
        try:
            return trio.run(run, port, process.pid, streams, events, blob_kb)
        finally:
            stop_server(process)


def measure(
    quick: bool = False,
    *,
    streams: int | None = None,
    events: int | None = None,
    blob_kb: int = 60,
) -> dict[str, Any]:
    """Both runs (see the module doc).  ``quick``: 5 streams and 20 events (a smoke
    test); else 50 and 400."""
    streams = streams or (5 if quick else 50)
    events = events or (20 if quick else 400)
    stalled = _once(streams, events, blob_kb)
    baseline = _once(0, events, blob_kb)
    return {
        **stalled,
        "baseline": baseline,
        "stalled_cost_mb": stalled["rss_growth_mb"] - baseline["rss_growth_mb"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts (smoke test)")
    parser.add_argument("--streams", type=int, help="stalled streams (default 50; quick 5)")
    parser.add_argument("--events", type=int, help="big events (default 400; quick 20)")
    parser.add_argument("--blob-kb", type=int, default=60, help="KiB of metadata per event")
    args = parser.parse_args()
    figures = measure(args.quick, streams=args.streams, events=args.events, blob_kb=args.blob_kb)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

"""HTTP/1.1 keep-alive around early answers and shutdown, over one raw h11 connection
(two traps hypercorn 0.18 with quart-trio fell into; kept as regression tests)."""

from __future__ import annotations

import h11
import trio
import trio.testing

import agentactors

from .http_helpers import Conn, Live

HEALTHY = (200, {"healthy": True, "version": agentactors.__version__})


async def test_early_answer_waits_for_the_body_and_the_connection_lives_on(live: Live) -> None:
    """A 405 decided before the body arrived is sent after it; the next request on the
    same connection is answered (hypercorn 0.18 used to leave it hanging)."""
    connection = Conn(live.port)
    try:
        with trio.fail_after(5):
            await connection.send(connection.head("PUT", "/permission", length=2))
            await trio.testing.wait_all_tasks_blocked()  # the server has seen the head only
            await connection.send(h11.Data(data=b"{}"), h11.EndOfMessage())
            assert (await connection.response())[0] == 405
            assert await connection.request("GET", "/global/health") == HEALTHY
    finally:
        await connection.aclose()


async def test_idle_keep_alive_connection_does_not_hold_shutdown(live: Live) -> None:
    """A graceful shutdown closes an idle kept-alive connection at once (not after the
    5 s graceful window)."""
    connection = Conn(live.port)
    try:
        assert await connection.request("GET", "/global/health") == HEALTHY
        live.server.shutdown()
        with trio.fail_after(1):
            await live.server.stopped.wait()
            assert connection.stream is not None
            assert await connection.stream.receive_some(1) == b""  # closed by the server
    finally:
        await connection.aclose()

"""Event streams bounded from outside: the bytes a stalled stream holds, the number of
streams open at once, and streams whose client leaves before they start."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import h11
import pytest
import trio
import trio.testing

from agentactors.actors import LAGGED
from agentactors.actors.bus import publish
from agentactors.policy import Config, load_config

from .http_helpers import HOST, Live, Stream, open_stream

CAP = 256 << 10  # bytes a stream may hold
MAX_STREAMS = 4
EVENTS = 400
BLOB = 32 << 10  # bytes of each big event: EVENTS of them are 50 times the cap


@pytest.fixture
def config() -> Config:
    return Config(read_project_files=False, stream_buffer_bytes=CAP, max_streams=MAX_STREAMS)


@asynccontextmanager
async def stalled_stream(live: Live, path: str = "/event") -> AsyncIterator[Stream]:
    """A stream whose client has a tiny receive buffer and reads only when told to
    (``server.connected`` is read: the stream is subscribed)."""
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await sock.connect((HOST, live.port))
    socket_stream = trio.SocketStream(sock)
    async with socket_stream:
        connection = h11.Connection(h11.CLIENT)
        head = [("Host", f"{HOST}:{live.port}"), ("Accept", "text/event-stream")]
        request = h11.Request(method="GET", target=path, headers=head)
        await socket_stream.send_all(connection.send(request) + connection.send(h11.EndOfMessage()))
        stream = Stream(socket_stream, connection)
        await stream.start()
        assert stream.status == 200
        assert (await stream.next()).type == "server.connected"
        yield stream


async def _streams(live: Live) -> dict[str, Any]:
    response = await live.client.get("/debug/streams")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_stalled_stream_holds_at_most_its_cap_and_is_told_what_it_lost(
    live: Live,
) -> None:
    """A client that stops reading while big events are published: its stream holds at
    most the cap (GET /debug/streams: peakBytes), drops its oldest events, and once read
    again says how many with bus.lagged; Last-Event-ID then replays what it lost.  A
    stream that keeps up meanwhile gets every event and loses none."""
    blob = "x" * BLOB
    async with stalled_stream(live) as stalled, open_stream(live) as reader:
        for n in range(EVENTS):  # one at a time: the reader keeps up
            publish("test.big", {"n": n, "blob": blob})
            message = await reader.next()
            assert (message.type, message.properties["n"]) == ("test.big", n)
        streams = await _streams(live)
        assert streams["open"] == 2
        assert streams["maxStreams"] == MAX_STREAMS
        stuck, keeping_up = sorted(streams["streams"], key=lambda s: -s["dropped"])
        assert stuck["maxBytes"] == keeping_up["maxBytes"] == CAP
        assert 0 < stuck["peakBytes"] <= CAP
        assert 0 < stuck["heldBytes"] <= CAP
        assert stuck["dropped"] > 0
        assert keeping_up["dropped"] == 0
        assert keeping_up["delivered"] == EVENTS

        seen: list[int] = []
        lost = 0
        resume: tuple[int, str | None] | None = None  # the last event before the first loss
        last: tuple[int, str | None] = (-1, None)
        while last[0] != EVENTS - 1:
            message = await stalled.next()
            if message.type == LAGGED:
                assert message.id is None
                lost += message.properties["dropped"]
                resume = resume or last
            elif message.type == "test.big":
                last = (message.properties["n"], message.id)
                seen.append(last[0])
    assert lost == stuck["dropped"]
    assert len(seen) + lost == EVENTS
    assert seen == sorted(seen)
    assert resume is not None
    assert resume[1] is not None

    async with open_stream(live, headers={"Last-Event-ID": resume[1]}) as replay:
        replayed = [(await replay.next_of("test.big")).properties["n"] for _ in range(3)]
    assert replayed == [resume[0] + 1, resume[0] + 2, resume[0] + 3]


async def test_streams_past_the_cap_are_refused_503_until_one_closes(live: Live) -> None:
    """At most [events] max_streams streams at once; the next /event or /global/event
    is a 503 TooManyStreamsError naming the cap; other routes answer on, and once a
    stream closes a new one opens."""
    async with (
        open_stream(live),
        open_stream(live, "/global/event"),
        open_stream(live, "/event?directory=/a"),
    ):
        async with open_stream(live):
            for path in ("/event", "/global/event"):
                refused = await live.client.get(path)
                assert refused.status_code == 503
                body = refused.json()
                assert body["_tag"] == "TooManyStreamsError"
                assert body["limit"] == MAX_STREAMS
                assert "max_streams" in body["message"]
            assert (await live.client.get("/global/health")).status_code == 200
        await trio.testing.wait_all_tasks_blocked()  # the server has seen that one close
        async with open_stream(live) as stream:
            publish("test.after", {})
            assert (await stream.next_of("test.after")).properties == {}


async def test_a_client_gone_before_its_stream_starts_leaves_nothing_open(live: Live) -> None:
    """Clients that hang up right after asking for a stream (often before its answer
    begins) leave no stream open and take no place: all MAX_STREAMS can open after."""
    request = f"GET /event HTTP/1.1\r\nHost: {HOST}:{live.port}\r\n\r\n".encode()
    for _ in range(200):
        client = await trio.open_tcp_stream(HOST, live.port)
        await client.send_all(request)
        await client.aclose()
    await trio.testing.wait_all_tasks_blocked()
    assert (await _streams(live))["open"] == 0
    async with (
        open_stream(live),
        open_stream(live),
        open_stream(live),
        open_stream(live) as last,
    ):
        assert (await _streams(live))["open"] == MAX_STREAMS
        publish("test.after", {})
        assert (await last.next_of("test.after")).properties == {}


def test_stream_limits_are_read_from_the_events_table(tmp_path: Path) -> None:
    """[events] stream_buffer_bytes and max_streams set the caps; they must be positive."""
    path = tmp_path / "config.toml"
    path.write_text("[events]\nstream_buffer_bytes = 1048576\nmax_streams = 7\n")
    config = load_config(path, user_config=False)
    assert (config.stream_buffer_bytes, config.max_streams) == (1 << 20, 7)
    assert (Config().stream_buffer_bytes, Config().max_streams) == (4 << 20, 1000)

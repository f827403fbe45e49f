"""The served app over raw sockets (hypercorn with ``agentactors.http._hypercorn``): what
never reaches the routes (malformed heads, oversized heads and bodies), and the protocol
details clients rely on (100-continue, HEAD, OPTIONS, pipelining, keep-alive, chunked
bodies, hang-ups)."""

from __future__ import annotations

import json
from typing import Any

import trio
import trio.testing

from agentactors.actors import api

from .http_helpers import Live


async def _exchange(live: Live, raw: bytes, *, until_closed: bool = True) -> bytes:
    """Send ``raw`` on a new connection; everything the server sends until it closes
    (``until_closed``) or until one answer's head and body have arrived."""
    with trio.fail_after(5):
        async with await trio.open_tcp_stream("127.0.0.1", live.port) as stream:
            await stream.send_all(raw)
            received = b""
            while True:
                chunk = await stream.receive_some(65536)
                if not chunk:
                    return received
                received += chunk
                if not until_closed and _complete(received):
                    return received


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            return len(body) >= int(value)
    return True


def _answers(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Split a byte stream of (content-length framed) answers."""
    answers = []
    while data:
        head, _, data = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        length = int(headers.get("content-length", "0"))
        body, data = data[:length], data[length:]
        answers.append((int(status_line.split()[1]), headers, body))
    return answers


def _json(body: bytes) -> Any:
    return json.loads(body)


async def test_a_malformed_request_line_is_a_json_400_and_the_connection_closes(
    live: Live,
) -> None:
    """Garbage instead of a request line: 400 with a JSON error, then the server closes."""
    [(status, headers, body)] = _answers(await _exchange(live, b"HELLO THERE\r\n\r\n"))
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert _json(body)["_tag"] == "BadRequestError"
    assert headers["connection"] == "close"


async def test_an_oversized_head_is_431(live: Live) -> None:
    """A head over 16 KiB is refused with 431, not read forever."""
    raw = b"GET /global/health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n"
    [(status, _, body)] = _answers(await _exchange(live, raw))
    assert status == 431
    assert _json(body)["_tag"] == "RequestHeaderFieldsTooLargeError"


async def test_a_large_head_in_pieces_is_served_and_an_endless_one_refused(live: Live) -> None:
    """A 12 KiB head sent in three pieces is read whole (under the 16 KiB limit); a header
    that never ends is refused with 431 rather than buffered without bound."""
    head = b"GET /global/health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 12_000
    with trio.fail_after(5):
        async with await trio.open_tcp_stream("127.0.0.1", live.port) as stream:
            for piece in (head[:4000], head[4000:8000], head[8000:] + b"\r\n\r\n"):
                await stream.send_all(piece)
                await trio.testing.wait_all_tasks_blocked()
            received = b""
            while not _complete(received):
                received += await stream.receive_some(65536)
    assert received.startswith(b"HTTP/1.1 200")
    with trio.fail_after(5):
        async with await trio.open_tcp_stream("127.0.0.1", live.port) as stream:
            await stream.send_all(b"GET / HTTP/1.1\r\nX-Endless: ")
            received = b""
            try:
                for _ in range(64):
                    await stream.send_all(b"a" * 8192)
                    await trio.testing.wait_all_tasks_blocked()
            except trio.BrokenResourceError:
                pass  # refused and closed before the rest was sent
            while not _complete(received):
                chunk = await stream.receive_some(65536)
                if not chunk:
                    break
                received += chunk
    assert received.startswith(b"HTTP/1.1 431")


async def test_a_chunked_body_over_the_limit_is_413_and_nothing_changes(live: Live) -> None:
    """A body without Content-Length that grows past max_body: 413 after it is read, and
    the request it tried to reply to stays pending."""
    session = await live.session()
    asked = await api.ask(session["id"], "bash", ["make deploy"])
    chunk = b"x" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    raw = (
        f"POST /permission/{asked.id}/reply HTTP/1.1\r\nHost: localhost\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode() + body
    [(status, _, answer)] = _answers(await _exchange(live, raw))
    assert status == 413
    assert _json(answer)["_tag"] == "PayloadTooLargeError"
    assert (await api.get_permission(asked.id)).pending


async def test_expect_100_continue_gets_a_100_then_the_answer(live: Live) -> None:
    """A client that waits for 100 Continue before its body gets it, then its answer."""
    session = await live.session()
    asked = await api.ask(session["id"], "bash", ["make deploy"])
    body = b'{"reply":"once"}'
    head = (
        f"POST /permission/{asked.id}/reply HTTP/1.1\r\nHost: localhost\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    with trio.fail_after(5):
        async with await trio.open_tcp_stream("127.0.0.1", live.port) as stream:
            await stream.send_all(head)
            interim = await stream.receive_some(65536)
            assert interim.startswith(b"HTTP/1.1 100 ")
            await stream.send_all(body)
            received = b""
            while not _complete(received):
                received += await stream.receive_some(65536)
    [(status, _, answer)] = _answers(received)
    assert (status, _json(answer)) == (200, True)


async def test_head_and_options(live: Live) -> None:
    """HEAD answers a GET route's head with no body; OPTIONS (no preflight) says what the
    path takes; both on one kept-alive connection."""
    raw = (
        b"HEAD /global/health HTTP/1.1\r\nHost: localhost\r\n\r\n"
        b"OPTIONS /permission HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    received = await _exchange(live, raw)
    head_answer, _, rest = received.partition(b"\r\n\r\n")
    assert head_answer.startswith(b"HTTP/1.1 200")
    assert b"content-length: " in head_answer.lower()
    [(status, headers, body)] = _answers(rest)
    assert (status, body) == (204, b"")
    assert headers["allow"] == "GET, HEAD"


async def test_pipelined_requests_are_answered_in_order(live: Live) -> None:
    """Three requests sent at once on one connection get three answers, in order."""
    session = await live.session()
    raw = (
        b"GET /global/health HTTP/1.1\r\nHost: localhost\r\n\r\n"
        + f"GET /session/{session['id']} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
        + b"GET /nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    answers = _answers(await _exchange(live, raw))
    assert [status for status, _, _ in answers] == [200, 200, 404]
    assert _json(answers[1][2])["id"] == session["id"]


async def test_an_idle_connection_is_closed_after_keep_alive(live: Live) -> None:
    """A kept-alive connection that sends nothing more is closed by the server."""
    live.server.config.keep_alive_timeout = 0.05
    raw = b"GET /global/health HTTP/1.1\r\nHost: localhost\r\n\r\n"
    [(status, _, _)] = _answers(await _exchange(live, raw))  # returns once closed
    assert status == 200


async def test_hanging_up_ends_a_held_ask_and_a_stream(live: Live) -> None:
    """A client that hangs up on a parked ask or an open stream is noticed at once: both
    stop being held; the request stays pending."""
    session = await live.session()
    body = json.dumps({"permission": "bash", "patterns": ["make deploy"]}).encode()
    ask = (
        f"POST /session/{session['id']}/permission?wait=true HTTP/1.1\r\nHost: localhost\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    with trio.fail_after(5):
        async with (
            await trio.open_tcp_stream("127.0.0.1", live.port) as stream,
            await trio.open_tcp_stream("127.0.0.1", live.port) as asker,
        ):
            await stream.send_all(b"GET /event HTTP/1.1\r\nHost: localhost\r\n\r\n")
            received = b""
            while b"server.connected" not in received:
                received += await stream.receive_some(65536)
            await asker.send_all(ask)
            while b"permission.asked" not in received:
                received += await stream.receive_some(65536)
            await trio.testing.wait_all_tasks_blocked()
            assert len(live.server.held) == 2
        await trio.testing.wait_all_tasks_blocked()
    assert len(live.server.held) == 0
    [pending] = await api.list_pending()
    assert pending.pending

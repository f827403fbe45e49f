"""The event-stream parser (``agentactors.client.SseParser``): the fields, line ends and
comments of the ``text/event-stream`` format, and the same events however the bytes are
split into chunks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentactors.client import SseEvent, SseParser


def parse(*chunks: bytes) -> list[SseEvent]:
    parser = SseParser()
    return [event for chunk in chunks for event in parser.feed(chunk)]


def test_an_event_is_its_fields_up_to_a_blank_line() -> None:
    """``id``, ``event`` and ``data`` make one event once a blank line ends it."""
    assert parse(b"id: 7\nevent: ping\ndata: {}\n\n") == [SseEvent("{}", "ping", "7")]


def test_data_lines_join_with_lf_and_the_type_defaults_to_message() -> None:
    """Several ``data`` lines are one value joined by LF; no ``event`` field: message."""
    assert parse(b"data: YHOO\ndata: +2\ndata: 10\n\n") == [SseEvent("YHOO\n+2\n10")]


def test_comments_and_unknown_fields_are_ignored() -> None:
    """``:`` lines (heartbeats, padding) and fields the format does not name change nothing."""
    stream = b": hello\ndata: a\n: between\nfoo: bar\n\n:\n\n"
    assert parse(stream) == [SseEvent("a")]


def test_one_space_after_the_colon_is_dropped() -> None:
    """``data:x`` and ``data: x`` are the same; a second space is part of the value."""
    assert parse(b"data:x\n\ndata: x\n\ndata:  x\n\n") == [
        SseEvent("x"),
        SseEvent("x"),
        SseEvent(" x"),
    ]


def test_a_line_without_a_colon_is_a_field_with_an_empty_value() -> None:
    """``data`` alone is an empty data line: ``data\\n\\ndata\\ndata\\n\\n`` is "" then LF."""
    assert parse(b"data\n\ndata\ndata\n\n") == [SseEvent(""), SseEvent("\n")]


def test_a_block_without_data_is_not_an_event_and_resets_the_type() -> None:
    """``event``/``id`` with no ``data`` dispatch nothing; the type does not carry over."""
    assert parse(b"event: x\nid: 1\n\ndata: y\n\n") == [SseEvent("y")]


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_end_is_one_line_end(end: bytes) -> None:
    """LF, CRLF and a lone CR each end a line (CRLF is one end, not two)."""
    stream = end.join([b"id: 1", b"data: a", b"data: b", b"", b"data: c", b"", b""])
    assert parse(stream) == [SseEvent("a\nb", id="1"), SseEvent("c")]


def test_mixed_line_ends() -> None:
    """CR then LF from two different lines' ends, in one stream."""
    assert parse(b"data: a\r\rdata: b\n\r\ndata: c\r\n\n") == [
        SseEvent("a"),
        SseEvent("b"),
        SseEvent("c"),
    ]


def test_an_event_id_is_its_own_and_the_stream_keeps_the_last() -> None:
    """An event without ``id:`` has id None; ``last_event_id`` keeps the last one given;
    an ``id`` holding NUL is ignored; an empty ``id`` empties the last one."""
    parser = SseParser()
    assert parser.last_event_id == ""
    assert parser.feed(b"id: 1\ndata: a\n\ndata: b\n\n") == [SseEvent("a", id="1"), SseEvent("b")]
    assert parser.last_event_id == "1"
    assert parser.feed(b"id: 2\x003\ndata: c\n\n") == [SseEvent("c")]
    assert parser.last_event_id == "1"
    assert parser.feed(b"id\ndata: d\n\n") == [SseEvent("d", id="")]
    assert parser.last_event_id == ""


def test_retry_takes_ascii_digits_only() -> None:
    """``retry`` sets the reconnection delay when it is all ASCII digits, else nothing."""
    parser = SseParser()
    assert parser.retry is None
    parser.feed(b"retry: 1500\n\nretry: 15x\n\nretry: \xc2\xb2\n\nretry:\n\n")
    assert parser.retry == 1500


def test_one_leading_byte_order_mark_is_dropped() -> None:
    """A BOM opening the stream is not text; a second one is part of a field name."""
    bom = "\ufeff".encode()
    assert parse(bom + b"data: a\n\n") == [SseEvent("a")]
    assert parse(bom + bom + b"data: a\n\n") == []
    assert parse(bom[:1], bom[1:], b"data: a\n\n") == [SseEvent("a")]


def test_text_is_utf8_and_bad_bytes_are_replaced() -> None:
    """Multi-byte characters survive any split; invalid bytes become U+FFFD."""
    assert parse("data: é€😀\n\n".encode()) == [SseEvent("é€😀")]
    assert parse(b"data: \xff\n\n") == [SseEvent("\ufffd")]


def test_an_unfinished_event_waits_for_the_rest() -> None:
    """Bytes after the last blank line are kept until a later chunk completes them; at
    the end of the stream they are not an event."""
    parser = SseParser()
    assert parser.feed(b'id: 9\ndata: {"a"') == []
    assert parser.feed(b": 1}\n") == []
    assert parser.feed(b"\ndata: never ended\n") == [SseEvent('{"a": 1}', id="9")]


# A stream touching every rule above: a BOM, comments, CRLF/CR/LF, multi-byte text, a
# field without a colon, an event without data, a NUL id, and an unfinished last event.
STREAM = (
    "\ufeff: opening comment\r\n"
    "id: evt_1\r\n"
    "event: permission.asked\r\n"
    'data: {"type": "permission.asked",\r\n'
    'data:  "title": "café ☕"}\r\n'
    "\r\n"
    "data: second\r"
    "\r"
    "retry: 250\n"
    "event: ignored\n"
    "\n"
    "id: a\x00b\n"
    "data\n"
    "data: 😀\n"
    "\n"
    "data: unfinished"
).encode()
EXPECTED = [
    SseEvent('{"type": "permission.asked",\n "title": "café ☕"}', "permission.asked", "evt_1"),
    SseEvent("second"),
    SseEvent("\n😀"),
]


def test_the_reference_stream_in_one_chunk() -> None:
    assert parse(STREAM) == EXPECTED


def test_every_split_into_two_chunks_gives_the_same_events() -> None:
    """A chunk may end at any byte: inside a line end, a field name or a character."""
    for cut in range(len(STREAM) + 1):
        assert parse(STREAM[:cut], STREAM[cut:]) == EXPECTED, cut


def test_every_split_into_three_chunks_gives_the_same_events() -> None:
    """Two cuts at every pair of byte positions (an empty middle chunk included)."""
    for first in range(len(STREAM) + 1):
        for second in range(first, len(STREAM) + 1):
            chunks = STREAM[:first], STREAM[first:second], STREAM[second:]
            assert parse(*chunks) == EXPECTED, (first, second)


def test_one_byte_at_a_time() -> None:
    assert parse(*(STREAM[i : i + 1] for i in range(len(STREAM)))) == EXPECTED


def _encode(event: SseEvent, ends: Iterator[str]) -> str:
    """``event`` as a writer might send it, each line ended by the next of ``ends`` (the
    blank line after a lone CR ends in CR: CR LF would be one line end)."""
    lines = [f"event: {event.event}"] if event.event != "message" else []
    lines += [f"id: {event.id}"] if event.id is not None else []
    lines += [f"data: {line}" for line in event.data.split("\n")]
    text = "".join(line + next(ends) for line in lines)
    return text + ("\r" if text.endswith("\r") else next(ends))


_TEXT = st.text(st.characters(exclude_characters="\r\n\x00", exclude_categories=["Cs"]))
_EVENTS = st.lists(
    st.builds(
        SseEvent,
        data=st.lists(_TEXT, min_size=1, max_size=3).map("\n".join),
        event=st.sampled_from(["message", "permission.asked", "x"]),
        id=st.none() | _TEXT,
    ),
    max_size=5,
)


@given(_EVENTS, st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=20), st.data())
def test_events_written_any_way_read_back_the_same(
    events: list[SseEvent], ends: list[str], data: st.DataObject
) -> None:
    """Whatever the line ends and chunk boundaries, a written stream reads back as the
    events written (a value's own leading space survives: the format drops only the one
    written after the colon)."""
    line_ends = iter(ends * 8)
    encoded = "".join(_encode(event, line_ends) for event in events).encode()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(encoded)), max_size=6)))
    chunks = [encoded[a:b] for a, b in zip([0, *cuts], [*cuts, len(encoded)], strict=True)]
    assert parse(*chunks) == events

"""Server-sent events read incrementally, without I/O: bytes go in as they arrive, complete
events come out.

The stream is read as the HTML specification's ``text/event-stream`` says: UTF-8 (one
leading byte order mark dropped, invalid bytes replaced), lines ended by CRLF, LF or a
lone CR (a CRLF split between two chunks is one line end), a line starting with ``:`` a
comment, ``name: value`` a field (one space after the colon dropped; a line without a
colon is a field with an empty value), and a blank line the end of an event.  ``data``
lines join with LF; ``event`` names the type (``"message"`` when absent); ``id`` (unless
it holds a NUL) is the event's id and the stream's last event id; ``retry`` (ASCII digits
only) is the reconnection delay in ms; other fields are ignored.  An event with no
``data`` line is not an event.  What follows the last blank line stays in the parser until
more bytes complete it (the end of the stream drops it).
"""

from __future__ import annotations

import codecs

import attrs


@attrs.frozen
class SseEvent:
    """One event: its ``data`` lines joined with LF, its type, and its own ``id:`` field
    (None when it had none; :attr:`SseParser.last_event_id` carries the stream's)."""

    data: str
    event: str = "message"
    id: str | None = None


class SseParser:
    """One event stream's parser: :meth:`feed` it the body's bytes in order.

    ``last_event_id`` is the last ``id:`` seen (what to send as ``Last-Event-ID`` on
    reconnecting; ``""`` before any), ``retry`` the last ``retry:`` (ms; None before any).
    """

    __slots__ = (
        "_after_cr",
        "_data",
        "_decoder",
        "_event",
        "_id",
        "_line",
        "_started",
        "last_event_id",
        "retry",
    )

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._line = ""  # the unfinished last line
        self._after_cr = False  # the text so far ended in CR: a leading LF is its CRLF
        self._started = False  # some text has arrived (a BOM only counts first)
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self.last_event_id = ""
        self.retry: int | None = None

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """The events ``chunk`` completes, in order (often none)."""
        events: list[SseEvent] = []
        data = self._data
        for line in self._lines(chunk):
            if not line:
                if data:
                    text = data[0] if len(data) == 1 else "\n".join(data)
                    events.append(SseEvent(text, self._event or "message", self._id))
                    data = self._data = []
                self._event, self._id = "", None
            elif line[0] != ":":
                name, _, value = line.partition(":")
                if value[:1] == " ":
                    value = value[1:]
                if name == "data":
                    data.append(value)
                else:
                    self._field(name, value)
        return events

    def _lines(self, chunk: bytes) -> list[str]:
        """The lines ``chunk`` completes, their ends dropped (the rest kept for later)."""
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        if self._after_cr:
            self._after_cr = False
            if text[:1] == "\n":
                text = text[1:]
        text = self._line + text
        if "\r" in text:
            self._after_cr = text[-1] == "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        self._line = lines.pop()
        return lines

    def _field(self, name: str, value: str) -> None:
        if name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value)

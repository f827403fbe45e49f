"""The open event streams: how many may be open at once, and what each one holds.

:class:`Streams` (one per app, in its context) admits a stream while fewer than
``max_streams`` are open, else refuses it with :class:`TooManyStreams` (a 503), and lists
the open ones for ``GET /debug/streams``: each one's bytes held (its encoded events
buffered or being sent), the most it ever held, its cap and the events it dropped.

Opening is for the trio thread.  :meth:`OpenStream.close` ends a stream's subscription
and frees its place; it is idempotent, never blocks, and is safe from any thread (a
finalizer may run it: see ``_sse``).
"""

from __future__ import annotations

import threading
import time

from agentactors.actors import Subscription, api

from ._errors import HttpError

TOO_MANY = "TooManyStreamsError"


class TooManyStreams(HttpError):
    """As many event streams are open as the server allows (503: retry later)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"{limit} event streams are open, the most this server allows "
            "([events] max_streams); close one or retry later",
            tag=TOO_MANY,
            status=503,
            limit=limit,
        )


class OpenStream:
    """One open stream: its route, its directory (None: every directory), and its
    subscription, which holds its buffer and byte counts."""

    def __init__(
        self, streams: Streams, path: str, directory: str | None, subscription: Subscription
    ) -> None:
        self._streams = streams
        self.path = path
        self.directory = directory
        self.subscription = subscription
        self.opened_at = time.time()

    def close(self) -> None:
        """Unsubscribe and free this stream's place.  Idempotent; never blocks."""
        with self._streams.lock:
            if self._streams.open.pop(self.subscription.id, None) is None:
                return
        api.unsubscribe(self.subscription)


class Streams:
    """The open streams of one app, at most ``limit`` at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.open: dict[str, OpenStream] = {}

    def __len__(self) -> int:
        return len(self.open)

    def admit(self, path: str, directory: str | None, subscription: Subscription) -> OpenStream:
        """Count a new stream in.  Raises :class:`TooManyStreams` when ``limit`` are
        open.  The caller closes what this returns (:meth:`OpenStream.close`)."""
        stream = OpenStream(self, path, directory, subscription)
        with self.lock:
            if len(self.open) >= self.limit:
                raise TooManyStreams(self.limit)
            self.open[subscription.id] = stream
        return stream

    def snapshot(self) -> list[OpenStream]:
        """The open streams, oldest first."""
        with self.lock:
            return list(self.open.values())

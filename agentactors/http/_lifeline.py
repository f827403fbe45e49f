"""Long waits that a graceful shutdown can end: parked long-polls and event streams.

The server's graceful shutdown waits for open requests and then cancels them, so a
long-poll would be cut without an answer.  Every long wait runs through
:meth:`Lifeline.run` instead; :meth:`Lifeline.close` cancels them all at once and each
raises :class:`ShuttingDown`, which the long-poll answers as a 503 and a stream takes as
its end.  Trio thread only; nothing here blocks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import trio

from ._errors import ShuttingDown

T = TypeVar("T")


class Lifeline:
    """The set of open long waits, and the switch that ends them."""

    def __init__(self) -> None:
        self._scopes: set[trio.CancelScope] = set()
        self.closing = False

    async def run(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()`` unless the server shuts down first.

        Cancel-safe: an outer cancellation (the client went away) propagates as usual.

        Raises:
            ShuttingDown: :meth:`close` was called before or while waiting.
        """
        if self.closing:
            raise ShuttingDown
        with trio.CancelScope() as scope:
            self._scopes.add(scope)
            try:
                return await fn()
            finally:
                self._scopes.discard(scope)
        raise ShuttingDown  # reached only when close() cancelled the scope

    def close(self) -> None:
        """End every open long wait, and refuse new ones.  Idempotent; never blocks."""
        self.closing = True
        for scope in list(self._scopes):
            scope.cancel()

    def __len__(self) -> int:
        """How many long waits are open."""
        return len(self._scopes)

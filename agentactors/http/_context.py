"""What every handler may reach besides ``api``: the settings, the config, the debug
console's address, the long waits a graceful shutdown must end, the open event
streams, the inbox page's logins and the agents' hook sessions.

One :class:`Context` per app, kept in ``app.extensions``; :func:`context` finds it from
inside a request.  Trio thread only.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

import attrs
import trio
from quart import current_app

from agentactors.policy import Config

from ._errors import ShuttingDown
from ._hooks import Hooks
from ._login import Attempts, Logins
from ._settings import Settings
from ._streams import Streams

T = TypeVar("T")
KEY = "agentactors"


class Held:
    """The long waits in progress (parked asks, long-polls, stream reads), so that a
    graceful shutdown can end them: :meth:`close` cancels each, and its :meth:`hold`
    raises ShuttingDown (a 503).  No task and no thread per wait."""

    def __init__(self) -> None:
        self._scopes: set[trio.CancelScope] = set()
        self.closing = False

    def __len__(self) -> int:
        return len(self._scopes)

    async def hold(self, wait: Coroutine[Any, Any, T]) -> T:
        """Await ``wait`` until it is done or :meth:`close` is called (then raise
        ShuttingDown).  Cancel-safe: a cancelled hold leaves nothing registered."""
        if self.closing:
            wait.close()
            raise ShuttingDown
        with trio.CancelScope() as scope:
            self._scopes.add(scope)
            try:
                return await wait
            finally:
                self._scopes.discard(scope)
        raise ShuttingDown  # only reached when close() cancelled the scope

    def close(self) -> None:
        """End every hold, now and from now on.  Never blocks; idempotent."""
        self.closing = True
        for scope in self._scopes:
            scope.cancel()


@attrs.define(eq=False)
class Context:
    settings: Settings
    config: Config
    console: tuple[str, int] | None = None  # the debug console's address, when enabled
    held: Held = attrs.Factory(Held)
    logins: Logins = attrs.Factory(Logins)  # the inbox page's browser logins
    attempts: Attempts = attrs.Factory(Attempts)  # wrong passwords at the login form
    hooks: Hooks = attrs.Factory(Hooks)  # the agents' sessions and recent verdicts
    streams: Streams = attrs.field(
        init=False,
        default=attrs.Factory(lambda self: Streams(self.config.max_streams), takes_self=True),
    )


def context() -> Context:
    """The app's context (inside a request)."""
    found: Context = current_app.extensions[KEY]
    return found

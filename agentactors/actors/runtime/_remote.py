"""A name served by another process: what the registry needs of it.

A :class:`Remote` stands in the registry for a service that runs elsewhere (another
process, another host).  Callers reach it exactly as a local service, by name through
:meth:`Registry.ask` and :meth:`Registry.tell`, so no caller knows where the service
runs.  While a name is held by a remote, no local actor may be started under it.
"""

from __future__ import annotations

from typing import Any, Protocol

from ._future import BridgeFuture
from ._request import Request


class Remote(Protocol):
    """A service of another process, reached by name."""

    def ask(self, message: Request[Any]) -> BridgeFuture[Any]:
        """Send ``message``; the future completes with the answer itself (a ``Later``
        answered there is followed there).  Never blocks.  The future fails with
        ``ServiceRestarting`` while the far service is being restarted and with
        ``NotRunning`` once it cannot be reached."""

    def tell(self, message: Any) -> None:
        """Send a notice; never blocks, never raises."""

    def describe(self) -> str:
        """Where the service runs (shown by ``snapshot``)."""

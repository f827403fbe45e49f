"""Starting and stopping the services, each a named singleton in the one registry."""

from __future__ import annotations

import attrs

from ._bus import BUS, Bus
from ._config import Config
from ._errors import NotRunning
from ._permission import Permission
from ._permission_messages import PERMISSION
from ._registry import RestartPolicy, registry
from ._sessions import SESSIONS, Sessions
from ._state import MemoryState


@attrs.frozen
class Services:
    """What :func:`start_services` started."""

    config: Config
    state: MemoryState
    names: tuple[str, ...]


def start_services(
    config: Config | None = None,
    *,
    state: MemoryState | None = None,
    restart: RestartPolicy | None = None,
) -> Services:
    """Start ``bus``, ``sessions`` and ``permission`` under their names.

    Raises:
        AlreadyStarted: a service of that name is already running in this process
            (there is exactly one registry per process; see design/actor-map.md).
    """
    config = config or Config()
    state = state or MemoryState()
    registry.start_singleton(BUS, Bus, history=config.bus_history, restart=restart)
    registry.start_singleton(SESSIONS, Sessions, state=state, restart=restart)
    registry.start_singleton(PERMISSION, Permission, config=config, state=state, restart=restart)
    return Services(config, state, (BUS, SESSIONS, PERMISSION))


def stop_services(*, timeout: float = 5.0) -> None:
    """Stop every named actor (newest first) and free the names.  Blocks up to
    ``timeout`` per actor for its current message."""
    registry.stop_all(timeout=timeout)


def running(name: str) -> bool:
    """Whether a live actor holds ``name``."""
    try:
        registry.resolve(name)
    except NotRunning:
        return False
    return True

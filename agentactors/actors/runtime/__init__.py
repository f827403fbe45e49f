"""The actor runtime: named singletons and their supervision, the service base class,
futures, the pykka-trio bridge and the timers.  It knows no particular actor; imports
only ``agentactors.model``.  See ``design/actor-map.md``.
"""

from ._batch import Completion
from ._blocking import blocking, pause
from ._bridge import (
    DEFAULT_TIMEOUT,
    acall,
    call,
    current_waker,
    post,
    tell,
)
from ._current import current_service
from ._events import install_event_sink, send_events
from ._future import BridgeFuture, failed
from ._registry import Registry, RestartPolicy, lookup, registry, snapshot, start_singleton
from ._remote import Remote
from ._request import Later, Request
from ._service import Crash, Reload, Service, handles
from ._timers import TimerHandle, timers

__all__ = [
    "DEFAULT_TIMEOUT",
    "BridgeFuture",
    "Completion",
    "Crash",
    "Later",
    "Registry",
    "Reload",
    "Remote",
    "Request",
    "RestartPolicy",
    "Service",
    "TimerHandle",
    "acall",
    "blocking",
    "call",
    "current_service",
    "current_waker",
    "failed",
    "handles",
    "install_event_sink",
    "lookup",
    "pause",
    "post",
    "registry",
    "send_events",
    "snapshot",
    "start_singleton",
    "tell",
    "timers",
]

"""Which service runs in this thread: the thread-local the runtime sets.

A service's own thread carries it from start to stop (set by ``Service.on_start``).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._service import Service

thread_role = threading.local()
"""``thread_role.service``: the service whose handler this thread runs, if any."""


def in_service_thread() -> bool:
    """Whether the calling thread belongs to a service that must never block."""
    service = getattr(thread_role, "service", None)
    return service is not None and not service.may_block


def current_service() -> Service | None:
    """The service whose thread this is, or None."""
    return getattr(thread_role, "service", None)

"""The actor runtime and the services: the public face of ``agentactors/actors/``.

Everything here re-exports private modules; see ``design/actor-map.md``.  This package
imports nothing from ``agentactors.http`` or ``agentactors.plugins``.
"""

from . import _api as api
from . import messages
from ._bus import BUS, Bus, make_event, publish, subscribe_now
from ._journal import STORE, Journal
from ._permission import Permission
from ._permission_messages import MAX_TIMEOUT, PERMISSION, Asked
from ._runtime import Services, running, start_services, stop_services
from ._sessions import SESSIONS, Sessions
from ._state import MemoryState, State
from ._store import BreakStore, Store, StoreInfo, StoreStatus
from ._store_schema import StoreError, StoreUnavailable
from ._subscription import LAGGED, Closed, Subscription

__all__ = [
    "BUS",
    "LAGGED",
    "MAX_TIMEOUT",
    "PERMISSION",
    "SESSIONS",
    "STORE",
    "Asked",
    "BreakStore",
    "Bus",
    "Closed",
    "Journal",
    "MemoryState",
    "Permission",
    "Services",
    "Sessions",
    "State",
    "Store",
    "StoreError",
    "StoreInfo",
    "StoreStatus",
    "StoreUnavailable",
    "Subscription",
    "api",
    "make_event",
    "messages",
    "publish",
    "running",
    "start_services",
    "stop_services",
    "subscribe_now",
]

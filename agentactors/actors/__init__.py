"""The actor runtime and the services: the public face of ``agentactors/actors/``.

Everything here re-exports private modules; see ``design/actor-map.md``.  This package
imports nothing from ``agentactors.http`` or ``agentactors.plugins``.
"""

from . import _api as api
from . import messages
from ._bridge import DEFAULT_TIMEOUT, acall, call, post, tell, wait, wait_sync
from ._bus import BUS, Bus, make_event, publish, subscribe_now
from ._future import BridgeFuture
from ._journal import STORE, Journal
from ._permission import Permission
from ._permission_messages import MAX_TIMEOUT, PERMISSION, Asked
from ._registry import (
    ActorInfo,
    Registry,
    RestartPolicy,
    lookup,
    registry,
    resolve,
    snapshot,
    start_singleton,
    stop_all,
)
from ._runtime import Services, running, start_services, stop_services
from ._service import Crash, InjectedCrash, Reload, Service, handles
from ._sessions import SESSIONS, Sessions
from ._state import MemoryState, State
from ._store import BreakStore, Store, StoreInfo, StoreStatus
from ._store_schema import StoreError, StoreUnavailable
from ._subscription import LAGGED, Closed, Subscription

__all__ = [
    "BUS",
    "DEFAULT_TIMEOUT",
    "LAGGED",
    "MAX_TIMEOUT",
    "PERMISSION",
    "SESSIONS",
    "STORE",
    "ActorInfo",
    "Asked",
    "BreakStore",
    "BridgeFuture",
    "Bus",
    "Closed",
    "Crash",
    "InjectedCrash",
    "Journal",
    "MemoryState",
    "Permission",
    "Registry",
    "Reload",
    "RestartPolicy",
    "Service",
    "Services",
    "Sessions",
    "State",
    "Store",
    "StoreError",
    "StoreInfo",
    "StoreStatus",
    "StoreUnavailable",
    "Subscription",
    "acall",
    "api",
    "call",
    "handles",
    "lookup",
    "make_event",
    "messages",
    "post",
    "publish",
    "registry",
    "resolve",
    "running",
    "snapshot",
    "start_services",
    "start_singleton",
    "stop_all",
    "stop_services",
    "subscribe_now",
    "tell",
    "wait",
    "wait_sync",
]

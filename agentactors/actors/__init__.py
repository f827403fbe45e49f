"""The actor runtime and the services: the public face of ``agentactors/actors/``.

Everything here re-exports private modules; see ``design/actor-map.md``.  This package
imports nothing from ``agentactors.http`` or ``agentactors.plugins``.
"""

from . import _api as api
from . import _wire as wire
from . import messages
from ._bridge import DEFAULT_TIMEOUT, acall, call, post, tell, wait, wait_sync
from ._bus import BUS, Bus, make_event, publish, subscribe_now
from ._config import Config, load_config, parse_ruleset
from ._decide import Decision, decide
from ._errors import (
    AgentActorsError,
    AlreadyDecided,
    AlreadyStarted,
    ApprovalNotFound,
    BlockingCallError,
    CallTimeout,
    ConfigError,
    InvalidRequest,
    NotRunning,
    PermissionNotFound,
    RemoteError,
    RuntimeFault,
    ServiceCrashed,
    ServiceError,
    ServiceRestarting,
    SessionNotFound,
    Unauthorized,
)
from ._future import BridgeFuture
from ._ids import is_id, new_id
from ._journal import STORE, Journal
from ._limits import (
    MAX_DEPTH,
    MAX_DIRECTORY,
    MAX_MESSAGE,
    MAX_METADATA_BYTES,
    MAX_NAME,
    MAX_PATTERN,
    MAX_PATTERNS,
    MAX_RULES,
    MAX_TITLE,
    depth,
)
from ._models import (
    BY_ASKER,
    BY_USER,
    Decider,
    Event,
    PermissionRequest,
    Rule,
    SavedApproval,
    Session,
    ToolRef,
)
from ._page import DEFAULT_LIMIT, MAX_LIMIT, Page, cursor_pattern
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
from ._rules import wildcard_match
from ._runtime import Services, running, start_services, stop_services
from ._service import Crash, InjectedCrash, Reload, Service, handles
from ._sessions import SESSIONS, Sessions
from ._state import MemoryState, State
from ._store import BreakStore, Store, StoreInfo, StoreStatus
from ._store_schema import StoreError, StoreUnavailable, default_data_dir
from ._subscription import LAGGED, Closed, Subscription

__all__ = [
    "BUS",
    "BY_ASKER",
    "BY_USER",
    "DEFAULT_LIMIT",
    "DEFAULT_TIMEOUT",
    "LAGGED",
    "MAX_DEPTH",
    "MAX_DIRECTORY",
    "MAX_LIMIT",
    "MAX_MESSAGE",
    "MAX_METADATA_BYTES",
    "MAX_NAME",
    "MAX_PATTERN",
    "MAX_PATTERNS",
    "MAX_RULES",
    "MAX_TIMEOUT",
    "MAX_TITLE",
    "PERMISSION",
    "SESSIONS",
    "STORE",
    "ActorInfo",
    "AgentActorsError",
    "AlreadyDecided",
    "AlreadyStarted",
    "ApprovalNotFound",
    "Asked",
    "BlockingCallError",
    "BreakStore",
    "BridgeFuture",
    "Bus",
    "CallTimeout",
    "Closed",
    "Config",
    "ConfigError",
    "Crash",
    "Decider",
    "Decision",
    "Event",
    "InjectedCrash",
    "InvalidRequest",
    "Journal",
    "MemoryState",
    "NotRunning",
    "Page",
    "Permission",
    "PermissionNotFound",
    "PermissionRequest",
    "Registry",
    "Reload",
    "RemoteError",
    "RestartPolicy",
    "Rule",
    "RuntimeFault",
    "SavedApproval",
    "Service",
    "ServiceCrashed",
    "ServiceError",
    "ServiceRestarting",
    "Services",
    "Session",
    "SessionNotFound",
    "Sessions",
    "State",
    "Store",
    "StoreError",
    "StoreInfo",
    "StoreStatus",
    "StoreUnavailable",
    "Subscription",
    "ToolRef",
    "Unauthorized",
    "acall",
    "api",
    "call",
    "cursor_pattern",
    "decide",
    "default_data_dir",
    "depth",
    "handles",
    "is_id",
    "load_config",
    "lookup",
    "make_event",
    "messages",
    "new_id",
    "parse_ruleset",
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
    "wildcard_match",
    "wire",
]

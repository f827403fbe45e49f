"""agentactors: a permission and event server for AI agents, built as named singleton
actors.  The public face; the work lives in the subpackages' private modules."""

from agentactors.actors import start_services, stop_services
from agentactors.actors.runtime import lookup, snapshot, start_singleton
from agentactors.model import (
    AlreadyDecided,
    AlreadyStarted,
    CallTimeout,
    NotRunning,
    PermissionNotFound,
    SessionNotFound,
)
from agentactors.model import wire as _wire
from agentactors.policy import Config, load_config

__version__ = _wire.VERSION

__all__ = [
    "AlreadyDecided",
    "AlreadyStarted",
    "CallTimeout",
    "Config",
    "NotRunning",
    "PermissionNotFound",
    "SessionNotFound",
    "__version__",
    "load_config",
    "lookup",
    "snapshot",
    "start_services",
    "start_singleton",
    "stop_services",
]

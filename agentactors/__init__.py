"""agentactors: a permission and event server for AI agents, built as named singleton
actors.  The public face; the work lives in the subpackages' private modules.

The names load on first use (PEP 562), so a command that needs none of them (``hook``,
run by an agent for every tool call) does not pay for the actors' imports."""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
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
    from agentactors.policy import Config, load_config

    __version__: str

_WHERE = {
    "start_services": "agentactors.actors",
    "stop_services": "agentactors.actors",
    "lookup": "agentactors.actors.runtime",
    "snapshot": "agentactors.actors.runtime",
    "start_singleton": "agentactors.actors.runtime",
    "AlreadyDecided": "agentactors.model",
    "AlreadyStarted": "agentactors.model",
    "CallTimeout": "agentactors.model",
    "NotRunning": "agentactors.model",
    "PermissionNotFound": "agentactors.model",
    "SessionNotFound": "agentactors.model",
    "Config": "agentactors.policy",
    "load_config": "agentactors.policy",
}

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


def __getattr__(name: str) -> _typing.Any:
    if name == "__version__":
        value: _typing.Any = _importlib.import_module("agentactors.model").wire.VERSION
    elif name in _WHERE:
        value = getattr(_importlib.import_module(_WHERE[name]), name)
    else:
        raise AttributeError(f"module 'agentactors' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

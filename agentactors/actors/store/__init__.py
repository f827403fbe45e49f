"""What must survive a crash or a restart: the in-memory state a restarted actor reloads
from, the journal that makes it durable, the ``store`` actor and its SQLite schema.
Imports ``agentactors.model`` and the runtime; see ``design/state.md``.
"""

from ._actor import StoreActor
from ._history import History
from ._journal import STORE, Journal
from ._schema import (
    MEMORY,
    DataDir,
    StoreError,
    StoreUnavailable,
    data_dir_path,
    load_state,
    lock_data_dir,
    open_database,
    recent_events,
)
from ._state import MemoryState, State

__all__ = [
    "MEMORY",
    "STORE",
    "DataDir",
    "History",
    "Journal",
    "MemoryState",
    "State",
    "StoreActor",
    "StoreError",
    "StoreUnavailable",
    "data_dir_path",
    "load_state",
    "lock_data_dir",
    "open_database",
    "recent_events",
]

"""What must survive a crash or a restart: the in-memory state a restarted actor reloads
from, the journal that makes it durable, the ``store`` actor and its SQLite schema.
Imports ``agentactors.model`` and the runtime; see ``design/state.md``.
"""

from ._actor import StoreActor
from ._datadir import MEMORY, DataDir, data_dir_path, lock_data_dir
from ._errors import StoreError, StoreUnavailable
from ._history import History
from ._journal import STORE, Journal
from ._rows import load_state, recent_events
from ._schema import open_database
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

"""The messages callers send to ``permission`` and ``bus`` (and the
runtime's ``Crash``), by one import: each ``Request[T]`` is asked with ``post``/``call``/
``acall`` and answered with a ``T``; the others are told.  What only the runtime and the
store exchange (``Reload``, ``Commit``) and each service's status queries stay with
their modules."""

from agentactors.actors.runtime import Crash
from agentactors.actors.store import History

from ._permission_messages import (
    AbortSession,
    AskPermission,
    CreateSession,
    DeleteSession,
    EndAll,
    Evaluate,
    Expire,
    GetPermission,
    GetSession,
    ListPending,
    ListSaved,
    ListSessions,
    PolicyDeadline,
    ReplyPermission,
    RevokeSaved,
    SetPolicies,
    UpdateSession,
    Verdict,
    WaitPermission,
)
from .bus import Publish, PublishMany, Since, Subscribe, Unsubscribe

__all__ = [
    "AbortSession",
    "AskPermission",
    "Crash",
    "CreateSession",
    "DeleteSession",
    "EndAll",
    "Evaluate",
    "Expire",
    "GetPermission",
    "GetSession",
    "History",
    "ListPending",
    "ListSaved",
    "ListSessions",
    "PolicyDeadline",
    "Publish",
    "PublishMany",
    "ReplyPermission",
    "RevokeSaved",
    "SetPolicies",
    "Since",
    "Subscribe",
    "Unsubscribe",
    "UpdateSession",
    "Verdict",
    "WaitPermission",
]

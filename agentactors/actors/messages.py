"""Every message the services answer: the vocabulary of ``post``/``call``/``acall``."""

from agentactors.actors.runtime import Crash
from agentactors.actors.store import History

from ._permission_messages import (
    Asked,
    AskPermission,
    EndAll,
    EndSessions,
    Evaluate,
    Expire,
    GetPermission,
    ListPending,
    ListSaved,
    PolicyDeadline,
    ReplyPermission,
    RevokeSaved,
    SessionChanged,
    SessionsRemoved,
    SetPolicies,
    Verdict,
    WaitPermission,
)
from .bus import Publish, PublishMany, Since, Subscribe, Unsubscribe
from .sessions import (
    AbortSession,
    CreateSession,
    DeleteSession,
    GetSession,
    ListSessions,
    UpdateSession,
)

__all__ = [
    "AbortSession",
    "AskPermission",
    "Asked",
    "Crash",
    "CreateSession",
    "DeleteSession",
    "EndAll",
    "EndSessions",
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
    "SessionChanged",
    "SessionsRemoved",
    "SetPolicies",
    "Since",
    "Subscribe",
    "Unsubscribe",
    "UpdateSession",
    "Verdict",
    "WaitPermission",
]

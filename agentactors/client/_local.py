"""The in-process transport: each operation is the ``api`` call that carries it.

``api`` is the one in-process vocabulary: the async transport awaits its coroutines
(trio), the blocking one runs them with the runtime's ``blocking`` (plugin hooks, scripts).
Names are resolved on every call, so the client always reaches the one live service.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar, cast

from agentactors.actors import api
from agentactors.model import Decider
from agentactors.policy import parse_ruleset

from . import _ops as ops

T = TypeVar("T")


def operation(op: ops.Op[T], decided_by: Decider) -> Coroutine[Any, Any, T]:
    """The ``api`` coroutine that carries ``op`` (replies are recorded as ``decided_by``)."""
    return cast("Coroutine[Any, Any, T]", _operation(op, decided_by))  # op's type names it


def _operation(op: ops.Op[Any], decided_by: Decider) -> Coroutine[Any, Any, Any]:  # noqa: PLR0911, PLR0912 - one case per operation
    match op:
        case ops.CreateSession():
            rules = parse_ruleset(list(op.permission))
            return api.create_session(
                op.directory, title=op.title, parent_id=op.parent_id, permission=rules
            )
        case ops.GetSession():
            return api.get_session(op.session_id)
        case ops.ListSessions():
            return api.list_sessions(op.directory, limit=op.limit, cursor=op.cursor)
        case ops.AbortSession():
            return api.abort_session(op.session_id)
        case ops.Ask():
            ask = api.ask_and_wait if op.wait else api.ask
            return ask(
                op.session_id, op.permission, op.patterns,
                metadata=op.metadata, always=op.always, timeout=op.timeout,
            )  # fmt: skip
        case ops.GetPermission():
            return api.get_permission(op.request_id)
        case ops.WaitPermission():
            return api.wait_permission(op.request_id, timeout=op.timeout)
        case ops.ListPending():
            return api.list_pending(op.directory, op.session_id, limit=op.limit, cursor=op.cursor)
        case ops.ListInbox():
            return api.inbox(op.limit)
        case ops.Reply():
            return api.reply(
                op.request_id, op.reply, message=op.message, session_id=op.session_id,
                decided_by=decided_by, scope=op.scope,
            )  # fmt: skip
        case ops.Withdraw():
            return api.withdraw(op.request_id)
        case ops.ListSaved():
            return api.list_saved(op.scope, limit=op.limit, cursor=op.cursor)
        case ops.RevokeSaved():
            return api.revoke_saved(op.approval_id)
        case ops.History():
            return api.history(
                op.session_id, op.state, op.limit, decider=op.decider, since=op.since,
                until=op.until, before=op.before, cursor=op.cursor,
            )  # fmt: skip
    raise TypeError(f"unknown operation {op!r}")

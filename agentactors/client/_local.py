"""The in-process transport: operations become messages to the named services.

Each operation is a small program (a generator) that yields steps — send this message
to that service, or wait for this future — and returns the result.  The sync driver
runs the steps with the blocking ``call`` (plugin threads, scripts); the async driver
with ``acall`` (trio).  Names are resolved on every step, so the client always reaches
the one live service.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import attrs

from agentactors.actors import PERMISSION, SESSIONS
from agentactors.actors import messages as m
from agentactors.actors.runtime import DEFAULT_TIMEOUT, Request, acall, call
from agentactors.model import BY_ASKER, Decider, ServiceRestarting, new_id
from agentactors.policy import parse_ruleset

from . import _ops as ops


@attrs.frozen
class Send:
    service: str
    message: Request[Any]
    timeout: float | None = DEFAULT_TIMEOUT


Program = Generator[Send, Any, Any]


def program(op: ops.Op[Any], decided_by: Decider) -> Program:  # noqa: PLR0911, PLR0912 - one case per operation
    """The steps of ``op``."""
    match op:
        case ops.CreateSession():
            rules = parse_ruleset(list(op.permission))
            return (
                yield Send(SESSIONS, m.CreateSession(op.directory, op.title, op.parent_id, rules))
            )
        case ops.GetSession():
            return (yield Send(SESSIONS, m.GetSession(op.session_id)))
        case ops.ListSessions():
            return (yield Send(SESSIONS, m.ListSessions(op.directory, op.limit, op.cursor)))
        case ops.AbortSession():
            ids = yield Send(SESSIONS, m.AbortSession(op.session_id))
            yield Send(PERMISSION, m.EndSessions(tuple(ids)))
            return ids
        case ops.Ask():
            message = m.AskPermission(
                session_id=op.session_id,
                permission=op.permission,
                patterns=tuple(op.patterns),
                metadata=dict(op.metadata),
                always=tuple(op.always),
                timeout=op.timeout,
                wait=op.wait,
                request_id=new_id("per"),
            )
            if not op.wait:
                return (yield Send(PERMISSION, message))
            try:
                return (yield Send(PERMISSION, message, None))
            except ServiceRestarting:
                return (yield from _decision(message.request_id or "", None))
        case ops.GetPermission():
            return (yield Send(PERMISSION, m.GetPermission(op.request_id)))
        case ops.WaitPermission():
            return (yield from _decision(op.request_id, op.timeout))
        case ops.ListPending():
            listing = m.ListPending(op.directory, op.session_id, op.limit, op.cursor)
            return (yield Send(PERMISSION, listing))
        case ops.Reply():
            reply = m.ReplyPermission(
                op.request_id, op.reply, op.message, op.session_id, decided_by, op.scope
            )
            return (yield Send(PERMISSION, reply))
        case ops.Withdraw():
            withdraw = m.ReplyPermission(op.request_id, "reject", decided_by=BY_ASKER)
            return (yield Send(PERMISSION, withdraw))
        case ops.ListSaved():
            return (yield Send(PERMISSION, m.ListSaved(op.scope, limit=op.limit, cursor=op.cursor)))
        case ops.RevokeSaved():
            return (yield Send(PERMISSION, m.RevokeSaved(op.approval_id)))
        case ops.History():
            query = m.History(
                op.session_id, op.state, op.limit, op.decider, op.since, op.until, op.before,
                op.cursor,
            )  # fmt: skip
            return (yield Send(PERMISSION, query))
    raise TypeError(f"unknown operation {op!r}")


def _decision(request_id: str, timeout: float | None) -> Program:
    """Wait for a decision, re-attaching by id if ``permission`` restarts meanwhile."""
    while True:
        try:
            return (yield Send(PERMISSION, m.WaitPermission(request_id), timeout))
        except ServiceRestarting:
            pass


def _advance(steps: Program, result: Any, error: BaseException | None) -> tuple[bool, Any]:
    """Feed the last result (or error) in; ``(True, value)`` when the program is done."""
    try:
        step = steps.throw(error) if error is not None else steps.send(result)
    except StopIteration as done:
        return True, done.value
    return False, step


def run_sync(steps: Program) -> Any:
    """Drive a program with blocking calls.  Raises what the services raise."""
    result: Any = None
    error: BaseException | None = None
    while True:
        done, step = _advance(steps, result, error)
        if done:
            return step
        result, error = None, None
        try:
            result = call(step.service, step.message, timeout=step.timeout)
        except Exception as exc:  # noqa: BLE001 - handed to the program, which may re-attach
            error = exc


async def run_async(steps: Program) -> Any:
    """Drive a program from trio (no thread held).  Raises what the services raise."""
    result: Any = None
    error: BaseException | None = None
    while True:
        done, step = _advance(steps, result, error)
        if done:
            return step
        result, error = None, None
        try:
            result = await acall(step.service, step.message, timeout=step.timeout)
        except Exception as exc:  # noqa: BLE001 - handed to the program, which may re-attach
            error = exc

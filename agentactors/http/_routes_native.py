"""The native routes: ask (optionally waiting), one request's state, the long-poll, the
asker's withdrawal, saved approvals and the audit log.

Long waits (``?wait=true``, ``/wait``) hold no thread and run through ``Held.hold``, so a
graceful shutdown answers them with a 503.  A client that goes away cancels its wait;
the request itself stays pending (another waiter may re-attach by id).
"""

from __future__ import annotations

from quart import Blueprint, Response, request

from agentactors.actors import api
from agentactors.model import CallTimeout, Decider, ToolRef, wire

from ._context import context
from ._doc import answers, errors
from ._inputs import body, query
from ._json import json_response
from ._models import (
    Ask,
    AskQuery,
    HistoryQuery,
    PageHeaders,
    PermissionState,
    SavedApproval,
    SavedQuery,
    WaitQuery,
)
from ._pages import page_response

blueprint = Blueprint("native", __name__)


@blueprint.post("/session/<sessionID>/permission")
@answers(PermissionState)
@query(AskQuery)
@body(Ask)
async def ask_permission(sessionID: str, body: Ask, query: AskQuery) -> Response:
    """Ask for a permission

    Answers at once with the request and its effect (allow, deny, ask); with ?wait=true
    it holds the request open and answers with the final state.
    """
    tool = body.tool
    args = (sessionID, body.permission, body.patterns or ())
    metadata, always = body.metadata, body.always or ()
    ref = ToolRef(tool.messageID, tool.callID) if tool else None
    if query.wait:
        wait = api.ask_and_wait(
            *args, metadata=metadata, always=always, tool=ref, timeout=body.timeout
        )
        return json_response(wire.request_state(await context().held.hold(wait)))
    asked = await api.ask(*args, metadata=metadata, always=always, tool=ref, timeout=body.timeout)
    return json_response(wire.request_state(asked))


@blueprint.get("/permission/<requestID>")
@answers(PermissionState)
async def get_permission(requestID: str) -> Response:
    """One request and its state"""
    return json_response(wire.request_state(await api.get_permission(requestID)))


@blueprint.get("/permission/<requestID>/wait")
@answers(PermissionState)
@query(WaitQuery)
async def wait_permission(requestID: str, query: WaitQuery) -> Response:
    """Wait for a request to end (long-poll)

    The final state; or, once timeout passes, the still-pending state (200: poll again).
    """
    try:
        final = await context().held.hold(api.wait_permission(requestID, timeout=query.timeout))
    except CallTimeout:
        final = await api.get_permission(requestID)
    return json_response(wire.request_state(final))


@blueprint.post("/permission/<requestID>/withdraw")
@answers(PermissionState)
@errors(409)
async def withdraw_permission(requestID: str) -> Response:
    """Withdraw a request (the asker takes it back)

    It ends rejected, decidedBy asker, alone: the session's other requests stay pending.
    Answers with the final state; 409 with the final state if it had already ended.
    """
    final = await api.withdraw(requestID, decided_by=Decider("asker", address=request.remote_addr))
    return json_response(wire.request_state(final))


@blueprint.get("/permission/saved")
@answers(list[SavedApproval], headers=PageHeaders)
@query(SavedQuery)
async def list_saved(query: SavedQuery) -> Response:
    """Saved 'always' approvals, in the order they were saved

    At most limit approvals: 100 unless given, 1,000 at most. When more follow, the
    Link (rel="next") and x-next-cursor headers say where the next page starts.
    """
    page = await api.list_saved(
        query.scope, query.sessionID, limit=query.limit, cursor=query.cursor
    )
    return page_response([wire.approval(a) for a in page], page)


@blueprint.delete("/permission/saved/<approvalID>")
@answers(SavedApproval)
async def revoke_saved(approvalID: str) -> Response:
    """Revoke a saved approval"""
    return json_response(wire.approval(await api.revoke_saved(approvalID)))


@blueprint.get("/permission/history")
@answers(list[PermissionState], headers=PageHeaders)
@query(HistoryQuery)
async def history(query: HistoryQuery) -> Response:
    """The audit log, newest first

    At most limit requests: 100 unless given, 1,000 at most. When more follow, the
    Link (rel="next") and x-next-cursor headers say where the next page starts. Rows
    come after cursor, and before the request id before, if given.
    """
    page = await api.history(
        query.sessionID,
        query.state,
        query.limit,
        decider=query.decider,
        since=query.since,
        until=query.until,
        before=query.before,
        cursor=query.cursor,
    )
    return page_response([wire.request_state(r) for r in page], page)

"""The OpenCode-compatible routes: health, the pending list and the two reply routes
(the event streams are in ``_sse``).  Replies over HTTP are decided by
``Decider("user", address=<client address>)``.
"""

from __future__ import annotations

from quart import Blueprint, Response, request

from agentactors.actors import BUS, PERMISSION, api
from agentactors.actors.runtime import snapshot
from agentactors.actors.store import STORE
from agentactors.model import Decider, NotRunning, wire

from ._context import context
from ._doc import answers, errors, public
from ._inputs import body, directory, query, scoped
from ._json import json_response
from ._models import Health, OpencodeReply, PageHeaders, PendingQuery, PermissionAsked, SessionReply
from ._pages import page_response
from ._quart_schema import deprecate

blueprint = Blueprint("opencode", __name__)

_CORE = frozenset({PERMISSION, BUS, STORE})
"""The services every answer needs: health is a 503 once one of them has stopped."""


@blueprint.get("/global/health")
@answers(Health)
@errors(503)
@public
async def health() -> Response:
    """Whether the server is up

    503 NotRunningError, naming the service and why, when one of the services every
    answer needs (permission, bus, store) has stopped: its supervisor gave up restarting
    it.  A plugin that stopped leaves the server healthy (it shows in /debug/actors).
    """
    for row in snapshot():
        if row.status == "stopped" and row.name in _CORE:
            raise NotRunning(row.name, row.reason)
    return json_response({"healthy": True, "version": wire.VERSION})


@blueprint.get("/permission")
@answers(list[PermissionAsked], headers=PageHeaders)
@scoped
@query(PendingQuery)
async def list_permissions(query: PendingQuery) -> Response:
    """Pending requests of the directory in scope, in the order they were asked

    At most limit requests: 100 unless given, 1,000 at most. When more follow, the
    Link (rel="next") and x-next-cursor headers say where the next page starts.
    """
    scope = directory(context().settings.directory)
    page = await api.list_pending(scope, limit=query.limit, cursor=query.cursor)
    return page_response([wire.asked(r) for r in page], page, directory=scope)


@blueprint.post("/permission/<requestID>/reply")
@answers(bool)
@errors(409)
@body(OpencodeReply)
async def reply_permission(requestID: str, body: OpencodeReply) -> Response:
    """Reply to a request

    once, always (saved with scope session or project) or reject (the message reaches the
    asker). 409 with the final state if it was already decided; 404 if sessionID is given
    and the request belongs to another session (it stays pending).
    """
    await api.reply(
        requestID,
        body.reply,
        message=body.message,
        session_id=body.sessionID,
        decided_by=Decider("user", address=request.remote_addr),
        scope=body.scope or "session",
    )
    return json_response(True)


@blueprint.post("/session/<sessionID>/permissions/<permissionID>")
@answers(bool)
@errors(409)
@deprecate
@body(SessionReply)
async def reply_session_permission(
    sessionID: str,
    permissionID: str,
    body: SessionReply,
) -> Response:
    """Reply to a request of this session (deprecated OpenCode route)

    404 if the request belongs to another session (it stays pending).
    """
    await api.reply(
        permissionID,
        body.response,
        message=body.message,
        session_id=sessionID,
        decided_by=Decider("user", address=request.remote_addr),
    )
    return json_response(True)

"""The OpenCode-compatible routes (contract §3, shapes in opencode-wire.md).

Health, the two event streams, the pending list and the two reply routes.  Replies over
HTTP are decided by ``Decider("user", address=<client address>)``.
"""

from __future__ import annotations

from typing import Any

from agentactors.actors import Decider, api, wire

from ._schema import array
from ._shapes import (
    EVENT,
    EVENT_ID,
    GLOBAL_EVENT,
    HEALTH,
    OPENCODE_REPLY,
    PERMISSION_ASKED,
    SESSION_REPLY,
    TRUE,
)
from ._sse import event_stream, global_event_stream
from ._table import Call, Param, Route

LAST_EVENT_ID = Param("Last-Event-ID", "header", EVENT_ID)


async def health(call: Call) -> dict[str, Any]:
    return {"healthy": True, "version": wire.VERSION}


async def list_permissions(call: Call) -> list[dict[str, Any]]:
    return [wire.asked(r) for r in await api.list_pending(call.directory)]


async def reply_permission(call: Call) -> bool:
    body = call.body
    await api.reply(
        call.path["requestID"],
        body["reply"],
        message=body.get("message"),
        decided_by=Decider("user", address=call.client),
        scope=body.get("scope", "session"),
    )
    return True


async def reply_session_permission(call: Call) -> bool:
    await api.reply(
        call.path["permissionID"],
        call.body["response"],
        message=call.body.get("message"),
        session_id=call.path["sessionID"],
        decided_by=Decider("user", address=call.client),
    )
    return True


ROUTES = (
    Route(
        "GET", "/global/health", health, "Whether the server is up", "global", HEALTH,
        auth=False,
    ),
    Route(
        "GET", "/event", event_stream, "Events of the directory in scope (SSE)", "events",
        EVENT, params=(LAST_EVENT_ID,), scoped=True, stream=True,
        description="server.connected first, server.heartbeat when idle, then events as "
        "{id, type, properties}; Last-Event-ID replays what the server still holds.",
    ),
    Route(
        "GET", "/global/event", global_event_stream, "Events of every directory (SSE)",
        "events", GLOBAL_EVENT, params=(LAST_EVENT_ID,), stream=True,
        description="As /event, each wrapped as {directory, project, payload}.",
    ),
    Route(
        "GET", "/permission", list_permissions, "Pending requests of the directory in scope",
        "permission", array(PERMISSION_ASKED), scoped=True,
    ),
    Route(
        "POST", "/permission/{requestID}/reply", reply_permission, "Reply to a request",
        "permission", TRUE, body=OPENCODE_REPLY, errors=(409,),
        description="once, always (saved with scope session or project) or reject (the "
        "message reaches the asker). 409 with the final state if it was already decided.",
    ),
    Route(
        "POST", "/session/{sessionID}/permissions/{permissionID}", reply_session_permission,
        "Reply to a request of this session (deprecated OpenCode route)", "permission", TRUE,
        body=SESSION_REPLY, errors=(409,), deprecated=True,
        description="404 if the request belongs to another session (it stays pending).",
    ),
)  # fmt: skip

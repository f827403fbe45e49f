"""The native routes: ask (optionally waiting), one request's state, the long-poll, saved
approvals, the audit log, and the debug views.

Long waits (``?wait=true``, ``/wait``) hold no thread and run through
:meth:`Call.hold`, so a graceful shutdown answers them with a 503.  A client that goes
away cancels its wait; the request itself stays pending (another waiter may re-attach by
id).
"""

from __future__ import annotations

from typing import Any

from agentactors.actors import CallTimeout, NotRunning, ToolRef, api, snapshot, wire

from ._errors import NotFound
from ._schema import array, boolean, integer, number
from ._shapes import (
    ACTOR,
    APPROVAL,
    ASK,
    CONSOLE,
    DECIDER_KIND,
    MAX_WAIT,
    PERMISSION_STATE,
    REQUEST_ID,
    SCOPE,
    SESSION_ID,
    STATE,
)
from ._table import Call, Param, Route


async def ask_permission(call: Call) -> dict[str, Any]:
    body = call.body
    tool = body.get("tool")
    session_id = call.path["sessionID"]
    args = (session_id, body["permission"], body.get("patterns", ()))
    options: dict[str, Any] = {
        "metadata": body.get("metadata"),
        "always": body.get("always", ()),
        "tool": ToolRef(tool["messageID"], tool["callID"]) if tool else None,
        "timeout": body.get("timeout"),
    }
    if call.query.get("wait"):
        final = await call.hold(api.ask_and_wait(*args, **options))
        return wire.request_state(final)
    asked = await api.ask(*args, **options)
    return wire.request_state(asked.request)


async def get_permission(call: Call) -> dict[str, Any]:
    return wire.request_state(await api.get_permission(call.path["requestID"]))


async def wait_permission(call: Call) -> dict[str, Any]:
    """Still pending when ``timeout`` passes: 200 with the pending state (poll again)."""
    request_id = call.path["requestID"]
    timeout = call.query.get("timeout")
    try:
        final = await call.hold(api.wait_permission(request_id, timeout=timeout))
    except CallTimeout:
        final = await api.get_permission(request_id)
    return wire.request_state(final)


async def list_saved(call: Call) -> list[dict[str, Any]]:
    query = call.query
    saved = await api.list_saved(query.get("scope"), query.get("sessionID"))
    return [wire.approval(a) for a in saved]


async def revoke_saved(call: Call) -> dict[str, Any]:
    return wire.approval(await api.revoke_saved(call.path["approvalID"]))


async def history(call: Call) -> list[dict[str, Any]]:
    query = call.query
    rows = await api.history(
        query.get("sessionID"),
        query.get("state"),
        query.get("limit", 100),
        decider=query.get("decider"),
        since=query.get("since"),
        until=query.get("until"),
        before=query.get("before"),
    )
    return [wire.request_state(r) for r in rows]


async def debug_actors(call: Call) -> list[dict[str, Any]]:
    return [
        {
            "name": row.name,
            "class": row.actor_class,
            "alive": row.alive,
            "mailboxDepth": row.mailbox_depth,
            "messagesHandled": row.messages_handled,
            "restarts": row.restarts,
            "startedAt": row.started_at,
            "status": row.status,
            "reason": row.reason,
        }
        for row in snapshot()
    ]


async def debug_console(call: Call) -> dict[str, Any]:
    if call.context.console is None:
        raise NotFound("the debug console is off (start the server with --repl)")
    host, port = call.context.console
    return {"host": host, "port": port}


async def doc(call: Call) -> dict[str, Any]:
    if call.context.document is None:  # pragma: no cover - create_app always sets it
        raise NotRunning("doc", "no document was built")
    return call.context.document


_WAIT_TIMEOUT = number("seconds to wait; absent: until decided", minimum=0, maximum=MAX_WAIT)

ROUTES = (
    Route(
        "POST", "/session/{sessionID}/permission", ask_permission, "Ask for a permission",
        "permission", PERMISSION_STATE, body=ASK,
        params=(Param("wait", "query", boolean("hold the answer until the request ends")),),
        description="Answers at once with the request and its effect (allow, deny, ask); "
        "with ?wait=true it holds the request open and answers with the final state.",
    ),
    Route(
        "GET", "/permission/saved", list_saved, "Saved 'always' approvals", "permission",
        array(APPROVAL), params=(Param("scope", "query", SCOPE),
                                 Param("sessionID", "query", SESSION_ID)),
    ),
    Route(
        "DELETE", "/permission/saved/{approvalID}", revoke_saved, "Revoke a saved approval",
        "permission", APPROVAL,
    ),
    Route(
        "GET", "/permission/history", history, "The audit log, newest first", "permission",
        array(PERMISSION_STATE),
        params=(
            Param("sessionID", "query", SESSION_ID),
            Param("state", "query", STATE),
            Param("limit", "query", integer(minimum=1, maximum=10_000)),
            Param("decider", "query", DECIDER_KIND),
            Param("since", "query", integer("created at or after (Unix ms)", minimum=0)),
            Param("until", "query", integer("created before (Unix ms)", minimum=0)),
            Param("before", "query", {**REQUEST_ID, "description": "the cursor: the last "
                                      "id of the previous page; older requests follow"}),
        ),
    ),
    Route(
        "GET", "/permission/{requestID}", get_permission, "One request and its state",
        "permission", PERMISSION_STATE,
    ),
    Route(
        "GET", "/permission/{requestID}/wait", wait_permission,
        "Wait for a request to end (long-poll)", "permission", PERMISSION_STATE,
        params=(Param("timeout", "query", _WAIT_TIMEOUT),),
        description="The final state; or, once timeout passes, the still-pending state.",
    ),
    Route(
        "GET", "/debug/actors", debug_actors, "The registry of named actors", "debug",
        array(ACTOR),
    ),
    Route(
        "GET", "/debug/console", debug_console, "Where the debug console listens (--repl)",
        "debug", CONSOLE, errors=(404,),
    ),
    Route("GET", "/doc", doc, "This OpenAPI 3.1 document", "debug", {"type": "object"}),
)  # fmt: skip

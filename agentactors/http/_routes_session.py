"""The OpenCode-compatible session routes: create, list, get, update, delete, abort.

A new session belongs to the directory in scope; everything under ``/session/{id}``
uses the session's own directory.  Session rules come in OpenCode's ruleset shape and are
checked by :func:`agentactors.actors.parse_ruleset`.
"""

from __future__ import annotations

from typing import Any

from agentactors.actors import api, parse_ruleset, wire

from ._schema import array
from ._shapes import SESSION, SESSION_CREATE, SESSION_UPDATE, TRUE
from ._table import Call, Route


async def create_session(call: Call) -> dict[str, Any]:
    body = call.body
    session = await api.create_session(
        call.directory,
        title=body.get("title"),
        parent_id=body.get("parentID"),
        permission=parse_ruleset(body.get("permission", [])),
    )
    return wire.session(session)


async def list_sessions(call: Call) -> list[dict[str, Any]]:
    return [wire.session(s) for s in await api.list_sessions(call.directory)]


async def get_session(call: Call) -> dict[str, Any]:
    return wire.session(await api.get_session(call.path["sessionID"]))


async def update_session(call: Call) -> dict[str, Any]:
    body = call.body
    rules = body.get("permission")
    session = await api.update_session(
        call.path["sessionID"],
        title=body.get("title"),
        permission=None if rules is None else parse_ruleset(rules),
    )
    return wire.session(session)


async def delete_session(call: Call) -> bool:
    await api.delete_session(call.path["sessionID"])
    return True


async def abort_session(call: Call) -> bool:
    await api.abort_session(call.path["sessionID"])
    return True


ROUTES = (
    Route(
        "POST", "/session", create_session, "Create a session in the directory in scope",
        "session", SESSION, body=SESSION_CREATE, scoped=True, errors=(404,),
    ),
    Route(
        "GET", "/session", list_sessions, "Sessions of the directory in scope", "session",
        array(SESSION), scoped=True,
    ),
    Route("GET", "/session/{sessionID}", get_session, "A session", "session", SESSION),
    Route(
        "PATCH", "/session/{sessionID}", update_session, "Change a session's title or rules",
        "session", SESSION, body=SESSION_UPDATE,
    ),
    Route(
        "DELETE", "/session/{sessionID}", delete_session,
        "Delete a session and its children; their pending requests end as aborted",
        "session", TRUE,
    ),
    Route(
        "POST", "/session/{sessionID}/abort", abort_session,
        "End the pending requests of a session and its children (aborted)", "session", TRUE,
    ),
)  # fmt: skip

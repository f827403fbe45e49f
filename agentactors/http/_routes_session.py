"""The OpenCode-compatible session routes: create, list, get, update, delete, abort.

A new session belongs to the directory in scope; everything under ``/session/<id>``
uses the session's own directory.  Session rules come in OpenCode's ruleset shape.
"""

from __future__ import annotations

from quart import Blueprint, Response

from agentactors.actors import api
from agentactors.model import wire
from agentactors.policy import parse_ruleset

from ._context import context
from ._doc import answers, errors
from ._inputs import body, directory, query, scoped
from ._json import json_response
from ._models import PageHeaders, Rule, Session, SessionCreate, SessionsQuery, SessionUpdate
from ._pages import page_response

blueprint = Blueprint("sessions", __name__)


def _rules(rules: list[Rule]) -> list[dict[str, str]]:
    return [{"permission": r.permission, "pattern": r.pattern, "action": r.action} for r in rules]


@blueprint.post("/session")
@answers(Session)
@errors(404)
@scoped
@body(SessionCreate)
async def create_session(body: SessionCreate) -> Response:
    """Create a session in the directory in scope"""
    session = await api.create_session(
        directory(context().settings.directory),
        title=body.title,
        parent_id=body.parentID,
        permission=parse_ruleset(_rules(body.permission or [])),
    )
    return json_response(wire.session(session))


@blueprint.get("/session")
@answers(list[Session], headers=PageHeaders)
@scoped
@query(SessionsQuery)
async def list_sessions(query: SessionsQuery) -> Response:
    """Sessions of the directory in scope, most recently updated first

    At most limit sessions: 100 unless given, 1,000 at most. When more follow, the
    Link (rel="next") and x-next-cursor headers say where the next page starts.
    """
    scope = directory(context().settings.directory)
    page = await api.list_sessions(scope, limit=query.limit, cursor=query.cursor)
    return page_response([wire.session(s) for s in page], page, directory=scope)


@blueprint.get("/session/<sessionID>")
@answers(Session)
async def get_session(sessionID: str) -> Response:
    """A session"""
    return json_response(wire.session(await api.get_session(sessionID)))


@blueprint.patch("/session/<sessionID>")
@answers(Session)
@body(SessionUpdate)
async def update_session(sessionID: str, body: SessionUpdate) -> Response:
    """Change a session's title or rules"""
    rules = None if body.permission is None else parse_ruleset(_rules(body.permission))
    session = await api.update_session(sessionID, title=body.title, permission=rules)
    return json_response(wire.session(session))


@blueprint.delete("/session/<sessionID>")
@answers(bool)
async def delete_session(sessionID: str) -> Response:
    """Delete a session and its children; their pending requests end as aborted"""
    await api.delete_session(sessionID)
    return json_response(True)


@blueprint.post("/session/<sessionID>/abort")
@answers(bool)
async def abort_session(sessionID: str) -> Response:
    """End the pending requests of a session and its children (aborted)"""
    await api.abort_session(sessionID)
    return json_response(True)

"""JSON shapes of the domain values (OpenCode's where it has one; see opencode-wire.md).

The HTTP layer and event properties use these; the domain classes stay free of JSON.
Pure functions.
"""

from __future__ import annotations

from typing import Any

from ._models import Decider, Event, PermissionRequest, Rule, SavedApproval, Session

VERSION = "0.1.0"


def decider(value: Decider | None) -> dict[str, Any] | None:
    if value is None:
        return None
    out: dict[str, Any] = {"kind": value.kind}
    if value.name is not None:
        out["name"] = value.name
    if value.address is not None:
        out["address"] = value.address
    return out


def rule(value: Rule) -> dict[str, Any]:
    return {"permission": value.permission, "pattern": value.pattern, "action": value.action}


def asked(request: PermissionRequest) -> dict[str, Any]:
    """OpenCode's ``permission.asked`` properties (and ``GET /permission`` items)."""
    out: dict[str, Any] = {
        "id": request.id,
        "sessionID": request.session_id,
        "permission": request.permission,
        "patterns": list(request.patterns),
        "metadata": dict(request.metadata),
        "always": list(request.always),
    }
    if request.tool is not None:
        out["tool"] = {"messageID": request.tool.message_id, "callID": request.tool.call_id}
    out["time"] = {"created": request.created}
    if request.expires_at is not None:
        out["expiresAt"] = request.expires_at
    return out


def request_state(request: PermissionRequest) -> dict[str, Any]:
    """The native full state: the asked shape plus state, effect, decision."""
    out = asked(request)
    out["directory"] = request.directory
    out["state"] = request.state
    out["effect"] = request.effect
    if not request.pending:
        out["reply"] = request.reply
        out["decidedBy"] = decider(request.decided_by)
        out["time"]["decided"] = request.decided_at
        if request.message is not None:
            out["message"] = request.message
    if request.rule is not None:
        out["rule"] = rule(request.rule)
    return out


def replied(request: PermissionRequest) -> dict[str, Any]:
    """``permission.replied`` properties: OpenCode's three fields plus ours."""
    out: dict[str, Any] = {
        "sessionID": request.session_id,
        "requestID": request.id,
        "reply": request.reply,
        "decidedBy": decider(request.decided_by),
        "state": request.state,
    }
    if request.message is not None:
        out["message"] = request.message
    return out


def session(value: Session) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": value.id,
        "slug": value.slug,
        "projectID": value.project_id,
        "directory": value.directory,
        "title": value.title,
        "version": VERSION,
        "time": {"created": value.created, "updated": value.updated},
    }
    if value.parent_id is not None:
        out["parentID"] = value.parent_id
    if value.permission:
        out["permission"] = [rule(r) for r in value.permission]
    return out


def approval(value: SavedApproval) -> dict[str, Any]:
    return {
        "id": value.id,
        "permission": value.permission,
        "pattern": value.pattern,
        "scope": value.scope,
        "sessionID": value.session_id,
        "directory": value.directory,
        "requestID": value.request_id,
        "savedBy": decider(value.saved_by),
        "time": {"created": value.created},
    }


def event(value: Event) -> dict[str, Any]:
    """``{id, type, properties}`` as on OpenCode's ``/event`` stream."""
    return {"id": value.id, "type": value.type, "properties": dict(value.properties)}

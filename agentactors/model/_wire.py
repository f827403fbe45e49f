"""JSON shapes of the domain values: OpenCode's where it has one (camelCase keys, times
in Unix milliseconds), with this server's own fields beside them.

The HTTP layer, event properties and the store's rows use these; the domain classes stay
free of JSON.  Pure functions.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

from ._models import Decider, Event, PermissionRequest, Rule, SavedApproval, Session, ToolRef

VERSION = importlib.metadata.version("agentactors")
"""The installed package's version: ``pyproject.toml`` is its one source."""


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


# --- parsing: the HTTP client turns the server's JSON back into values -----------------


def parse_decider(value: Any) -> Decider | None:
    if not isinstance(value, dict):
        return None
    return Decider(value["kind"], value.get("name"), value.get("address"))


def parse_rule(value: dict[str, Any]) -> Rule:
    return Rule(value["permission"], value["pattern"], value["action"])


def parse_request(value: dict[str, Any]) -> PermissionRequest:
    """A request from :func:`request_state` (or the shorter :func:`asked`) JSON."""
    tool = value.get("tool")
    time = value.get("time", {})
    return PermissionRequest(
        id=value["id"],
        session_id=value["sessionID"],
        directory=value.get("directory", ""),
        permission=value["permission"],
        patterns=tuple(value.get("patterns", ())),
        metadata=dict(value.get("metadata", {})),
        always=tuple(value.get("always", ())),
        tool=ToolRef(tool["messageID"], tool["callID"]) if tool else None,
        created=time.get("created", 0),
        expires_at=value.get("expiresAt"),
        effect=value.get("effect", "ask"),
        state=value.get("state", "pending"),
        reply=value.get("reply"),
        message=value.get("message"),
        decided_by=parse_decider(value.get("decidedBy")),
        decided_at=time.get("decided"),
        rule=parse_rule(value["rule"]) if value.get("rule") else None,
    )


def parse_session(value: dict[str, Any]) -> Session:
    time = value.get("time", {})
    return Session(
        id=value["id"],
        slug=value.get("slug", ""),
        directory=value["directory"],
        title=value.get("title", ""),
        created=time.get("created", 0),
        updated=time.get("updated", 0),
        parent_id=value.get("parentID"),
        project_id=value.get("projectID", "global"),
        permission=tuple(parse_rule(r) for r in value.get("permission", ())),
    )


def parse_approval(value: dict[str, Any]) -> SavedApproval:
    return SavedApproval(
        id=value["id"],
        permission=value["permission"],
        pattern=value["pattern"],
        scope=value["scope"],
        session_id=value["sessionID"],
        directory=value["directory"],
        created=value.get("time", {}).get("created", 0),
        saved_by=parse_decider(value.get("savedBy")) or Decider("user"),
        request_id=value.get("requestID"),
    )


def parse_event(value: dict[str, Any], directory: str | None = None) -> Event:
    """An event from ``{id, type, properties}`` (or the global ``{directory, payload}``)."""
    if "payload" in value:
        return parse_event(value["payload"], value.get("directory"))
    return Event(
        id=value["id"], type=value["type"], properties=value["properties"], directory=directory
    )

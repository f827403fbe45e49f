"""The schemas of the wire shapes (``agentactors.actors.wire``) and of request bodies.

Named shapes are registered as OpenAPI components; request bodies are validated against
the same objects.  A test checks that real ``wire`` output validates against these, so a
change of shape in ``wire`` that is not made here fails the suite.
"""

from __future__ import annotations

from ._schema import (
    Schema,
    array,
    boolean,
    component,
    enum,
    id_of,
    integer,
    number,
    obj,
    string,
)

MAX_WAIT = 7 * 24 * 3600.0  # seconds: the longest wait or request lifetime we take

SESSION_ID = id_of("ses")
REQUEST_ID = id_of("per")
APPROVAL_ID = id_of("apr")
EVENT_ID = id_of("evt")

ACTION = enum("allow", "ask", "deny")
REPLY = enum("once", "always", "reject")
SCOPE = enum("session", "project")
STATE = enum("pending", "replied", "expired", "aborted")
MILLIS = integer("Unix time in milliseconds")
TEXT = string(minLength=1)

RULE = component(
    "Rule",
    obj(
        {"permission": TEXT, "pattern": TEXT, "action": ACTION}, ("permission", "pattern", "action")
    ),
)
DECIDER_KIND = enum(
    "user", "plugin", "rule", "approval", "timeout", "abort", "cascade", "shutdown",
    description="who or what decided",
)  # fmt: skip
DECIDER = component(
    "Decider",
    obj(
        {
            "kind": DECIDER_KIND,
            "name": string(),
            "address": string("the client address of a user replying over HTTP"),
        },
        ("kind",),
    ),
)
TOOL = obj({"messageID": TEXT, "callID": TEXT}, ("messageID", "callID"))

_ASKED_PROPERTIES: dict[str, Schema] = {
    "id": REQUEST_ID,
    "sessionID": SESSION_ID,
    "permission": string(),
    "patterns": array(string()),
    "metadata": obj({}),
    "always": array(string()),
    "tool": TOOL,
    "time": obj({"created": MILLIS, "decided": MILLIS}, ("created",)),
    "expiresAt": MILLIS,
}
_ASKED_REQUIRED = ("id", "sessionID", "permission", "patterns", "metadata", "always", "time")

PERMISSION_ASKED = component(
    "PermissionAsked",
    obj(_ASKED_PROPERTIES, _ASKED_REQUIRED, "OpenCode's permission.asked properties"),
)
PERMISSION_STATE = component(
    "PermissionState",
    obj(
        {
            **_ASKED_PROPERTIES,
            "directory": string(),
            "state": STATE,
            "effect": ACTION,
            "reply": REPLY,
            "decidedBy": DECIDER,
            "message": string(),
            "rule": RULE,
        },
        (*_ASKED_REQUIRED, "directory", "state", "effect"),
        "A request with its state; a final one has reply, decidedBy and time.decided",
    ),
)
SESSION = component(
    "Session",
    obj(
        {
            "id": SESSION_ID,
            "slug": string(),
            "projectID": string(),
            "directory": string(),
            "title": string(),
            "version": string(),
            "time": obj({"created": MILLIS, "updated": MILLIS}, ("created", "updated")),
            "parentID": SESSION_ID,
            "permission": array(RULE),
        },
        ("id", "slug", "projectID", "directory", "title", "version", "time"),
    ),
)
APPROVAL = component(
    "SavedApproval",
    obj(
        {
            "id": APPROVAL_ID,
            "permission": string(),
            "pattern": string(),
            "scope": SCOPE,
            "sessionID": SESSION_ID,
            "directory": string(),
            "requestID": {"type": ["string", "null"]},
            "savedBy": DECIDER,
            "time": obj({"created": MILLIS}, ("created",)),
        },
        ("id", "permission", "pattern", "scope", "sessionID", "directory", "savedBy", "time"),
    ),
)
ACTOR = component(
    "ActorInfo",
    obj(
        {
            "name": string(),
            "class": string(),
            "alive": boolean(),
            "mailboxDepth": integer(),
            "messagesHandled": integer(),
            "restarts": integer(),
            "startedAt": number("Unix time in seconds"),
            "status": enum("running", "restarting", "stopped"),
            "reason": {"type": ["string", "null"]},
        },
        ("name", "class", "alive", "mailboxDepth", "messagesHandled", "restarts", "status"),
    ),
)
ERROR = component(
    "Error",
    obj(
        {
            "_tag": string("the error's kind, e.g. PermissionNotFoundError"),
            "message": string(),
            "field": {"type": ["string", "null"]},
            "name": string("OpenCode's error name (BadRequest) on 400s"),
            "data": obj({"kind": enum("Params", "Payload", "Query", "Headers")}),
            "request": PERMISSION_STATE,
        },
        ("_tag", "message"),
    ),
)
EVENT = component(
    "Event",
    obj({"id": EVENT_ID, "type": string(), "properties": obj({})}, ("id", "type", "properties")),
)
GLOBAL_EVENT = component(
    "GlobalEvent",
    obj(
        {"directory": string(), "project": string(), "payload": EVENT},
        ("directory", "project", "payload"),
    ),
)
HEALTH = obj({"healthy": {"const": True}, "version": string()}, ("healthy", "version"))
CONSOLE = obj({"host": string(), "port": integer()}, ("host", "port"))
TRUE = {"const": True}

# --- request bodies ---------------------------------------------------------------------

RULESET = array(RULE, "session rules, OpenCode's ruleset shape; the last match wins")
OPENCODE_REPLY = obj(
    {
        "reply": REPLY,
        "message": string("feedback for the asker (with reject)"),
        "scope": SCOPE,
    },
    ("reply",),
)
SESSION_REPLY = obj({"response": REPLY, "message": string()}, ("response",))
SESSION_CREATE = obj({"title": string(), "parentID": SESSION_ID, "permission": RULESET})
SESSION_UPDATE = obj({"title": string(), "permission": RULESET})
_BASH_COMMAND = obj({"command": string(pattern=r"\S")}, ("command",))
_PATH = {"anyOf": [obj({"path": TEXT}, ("path",)), obj({"filePath": TEXT}, ("filePath",))]}
_DERIVABLE = [
    {"required": ["patterns"]},
    obj({"permission": {"const": "bash"}, "metadata": _BASH_COMMAND}, ("metadata",)),
    obj({"metadata": _PATH}, ("metadata",)),
]
"""An ask gives patterns, or metadata the server derives them from (the same rule as
the permission service's ``_derived_patterns``)."""
ASK = obj(
    {
        "permission": TEXT,
        "patterns": array(TEXT, "what is asked for; omit to derive it from metadata", minItems=1),
        "metadata": obj({}),
        "always": array(TEXT),
        "tool": TOOL,
        "timeout": number(
            "seconds the request lives before it expires", exclusiveMinimum=0, maximum=MAX_WAIT
        ),
    },
    ("permission",),
    "patterns, or metadata to derive them from: metadata.command for bash, "
    "metadata.path (or filePath) for file tools",
    anyOf=_DERIVABLE,
)

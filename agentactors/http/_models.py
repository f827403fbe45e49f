"""The wire shapes as attrs models: request bodies, query strings and answers.

msgspec validates bodies and query strings against these classes (``_inputs``) and
quart-schema turns the same classes into the OpenAPI document (``_doc``), so what the
server accepts and what ``/doc`` says cannot drift apart.  Answers are rendered by
``agentactors.model.wire``; a test checks its real output against these models.

Attribute names are the JSON names (OpenCode's camelCase).  Optional fields default to
None: a body may leave them out (or send null).  Pure declarations.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, TypeVar

import attrs
import msgspec

from agentactors.actors import MAX_TIMEOUT
from agentactors.model import (
    DEFAULT_LIMIT,
    MAX_DIRECTORY,
    MAX_LIMIT,
    MAX_MESSAGE,
    MAX_METADATA_BYTES,
    MAX_NAME,
    MAX_PATTERN,
    MAX_PATTERNS,
    MAX_RULES,
    MAX_TITLE,
    cursor_pattern,
)

ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # of agentactors.model.new_id
ULID_LENGTH = 26
_ULID = f"[0-9A-HJKMNP-TV-Z]{{{ULID_LENGTH}}}"


def _id(prefix: str) -> msgspec.Meta:
    return msgspec.Meta(
        pattern=f"^{prefix}_{_ULID}$", description=f'an id: "{prefix}_" and 26 ULID characters'
    )


SessionID = Annotated[str, _id("ses")]
RequestID = Annotated[str, _id("per")]
ApprovalID = Annotated[str, _id("apr")]
EVENT_ID = _id("evt")
EventID = Annotated[str, EVENT_ID]
PATH_IDS: dict[str, msgspec.Meta] = {
    "sessionID": _id("ses"),
    "requestID": _id("per"),
    "permissionID": _id("per"),
    "approvalID": _id("apr"),
}
"""Every path parameter is an id; its name says which kind."""

CLOSED: dict[str, type[Any]] = {}
"""Body models that refuse unknown fields, by name (``_inputs.unknown_fields``)."""

_T = TypeVar("_T", bound=type[Any])


def closed(model: _T) -> _T:
    """Mark a body model as closed: an unknown field is a 400, and ``/doc`` says
    ``additionalProperties: false``."""
    CLOSED[model.__name__] = model
    return model


Text = Annotated[str, msgspec.Meta(min_length=1)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME)]
Pattern = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PATTERN)]
Title = Annotated[str, msgspec.Meta(max_length=MAX_TITLE)]
Message = Annotated[str, msgspec.Meta(max_length=MAX_MESSAGE, description="feedback for the asker")]
Millis = Annotated[int, msgspec.Meta(description="Unix time in milliseconds")]
MAX_MILLIS = 2**53 - 1
"""The latest Unix time in milliseconds an input may name (JSON's safe integers; SQLite
stores none above 2**63 - 1)."""


def _time(description: str) -> msgspec.Meta:
    return msgspec.Meta(ge=0, le=MAX_MILLIS, description=f"{description} (Unix ms)")


Action = Literal["allow", "ask", "deny"]
Reply = Literal["once", "always", "reject"]
Scope = Literal["session", "project"]
State = Literal["pending", "replied", "expired", "aborted"]
DeciderKind = Annotated[
    Literal[
        "user", "plugin", "rule", "approval", "timeout", "abort", "cascade", "shutdown", "asker"
    ],
    msgspec.Meta(description="who or what decided"),
]
Seconds = Annotated[
    float, msgspec.Meta(gt=0, le=MAX_TIMEOUT, description="seconds the request lives")
]
WaitSeconds = Annotated[
    float, msgspec.Meta(ge=0, le=MAX_TIMEOUT, description="seconds to wait; absent: until decided")
]
Directory = Annotated[
    str,
    msgspec.Meta(
        pattern="^/[^\\x00]*$",
        max_length=MAX_DIRECTORY,
        description="an absolute directory (no NUL)",
    ),
]


# --- values inside answers and bodies ----------------------------------------------------


@attrs.define
class Rule:
    permission: Pattern
    pattern: Pattern
    action: Action


@attrs.define
class Decider:
    kind: DeciderKind
    name: str | None = None
    address: Annotated[str, msgspec.Meta(description="a replying user's client address")] | None = (
        None
    )


@closed
@attrs.define
class Tool:
    messageID: Name
    callID: Name


@attrs.define
class AskedTime:
    created: Millis
    decided: Millis | None = None


@attrs.define
class Created:
    created: Millis


@attrs.define
class Updated:
    created: Millis
    updated: Millis


# --- answers -----------------------------------------------------------------------------


@attrs.define(kw_only=True)
class PermissionAsked:
    """OpenCode's permission.asked properties."""

    id: RequestID
    sessionID: SessionID
    permission: str
    patterns: list[str]
    metadata: dict[str, Any]
    always: list[str]
    time: AskedTime
    tool: Tool | None = None
    expiresAt: Millis | None = None


@attrs.define(kw_only=True)
class PermissionState(PermissionAsked):
    """A request with its state; a final one has reply, decidedBy and time.decided."""

    directory: str
    state: State
    effect: Action
    reply: Reply | None = None
    decidedBy: Decider | None = None
    message: str | None = None
    rule: Rule | None = None


@attrs.define
class Session:
    """A session."""

    id: SessionID
    slug: str
    projectID: str
    directory: str
    title: str
    version: str
    time: Updated
    parentID: SessionID | None = None
    permission: list[Rule] | None = None


@attrs.define
class SavedApproval:
    """A saved 'always' approval."""

    id: ApprovalID
    permission: str
    pattern: str
    scope: Scope
    sessionID: SessionID
    directory: str
    savedBy: Decider
    time: Created
    requestID: str | None = None


class ActorInfo(msgspec.Struct, rename={"class_": "class"}):
    """A named actor in the registry (a msgspec struct: ``class`` is no attribute name)."""

    name: str
    class_: str
    alive: bool
    mailboxDepth: int
    messagesHandled: int
    restarts: int
    status: Literal["running", "restarting", "stopped", "remote"]  # remote: serve --cluster
    startedAt: Annotated[float, msgspec.Meta(description="Unix time in seconds")] | None = None
    reason: str | None = None


@attrs.define
class StreamInfo:
    """An open event stream and the bytes it holds (encoded events buffered or being
    sent), at most ``maxBytes`` (a larger newest event is kept alone)."""

    id: str
    path: str
    directory: str | None
    openedAt: Annotated[float, msgspec.Meta(description="Unix time in seconds")]
    heldBytes: int
    peakBytes: Annotated[int, msgspec.Meta(description="the most it ever held")]
    maxBytes: int
    backlog: Annotated[int, msgspec.Meta(description="events buffered, not yet sent")]
    delivered: int
    dropped: Annotated[int, msgspec.Meta(description="events lost to the caps, in all")]


@attrs.define
class StreamsInfo:
    """The open event streams, at most ``maxStreams`` at once."""

    open: int
    maxStreams: int
    streams: list[StreamInfo]


@attrs.define
class Event:
    """{id, type, properties}, as on OpenCode's /event stream."""

    id: EventID
    type: str
    properties: dict[str, Any]


@attrs.define
class GlobalEvent:
    """An event of /global/event, wrapped with its directory."""

    directory: str
    project: str
    payload: Event


@attrs.define
class Health:
    healthy: Literal[True]
    version: str


@attrs.define
class Console:
    host: str
    port: int


@attrs.define
class ErrorData:
    kind: Literal["Params", "Payload", "Query", "Headers"]
    message: str | None = None
    field: str | None = None


@attrs.define
class Error:
    """Every answer that is not a success: the error's kind, a message, the field."""

    _tag: Annotated[str, msgspec.Meta(description="the error's kind, e.g. NotFoundError")]
    message: str
    field: str | None = None
    name: (
        Annotated[str, msgspec.Meta(description="OpenCode's name (BadRequest) on 400s")] | None
    ) = None
    data: ErrorData | None = None
    request: PermissionState | None = None


# --- request bodies ----------------------------------------------------------------------

Ruleset = Annotated[
    list[Rule],
    msgspec.Meta(
        max_length=MAX_RULES,
        description="session rules (OpenCode's ruleset); the last match wins",
    ),
]


@closed
@attrs.define
class OpencodeReply:
    reply: Reply
    message: Message | None = None
    scope: Scope | None = None
    sessionID: (
        Annotated[
            SessionID,
            msgspec.Meta(description="if given, the request must belong to this session (404)"),
        ]
        | None
    ) = None


@attrs.define
class SessionReply:
    response: Reply
    message: Message | None = None


@attrs.define
class SessionCreate:
    title: Title | None = None
    parentID: SessionID | None = None
    permission: Ruleset | None = None


@attrs.define
class SessionUpdate:
    title: Title | None = None
    permission: Ruleset | None = None


_DERIVABLE = [
    {"properties": {"patterns": {"type": "array"}}, "required": ["patterns"]},
    {
        "properties": {
            "permission": {"const": "bash"},
            "metadata": {
                "type": "object",
                "properties": {"command": {"type": "string", "pattern": r"\S"}},
                "required": ["command"],
            },
        },
        "required": ["metadata"],
    },
    {
        "properties": {
            "metadata": {
                "anyOf": [
                    {"type": "object", "properties": {"path": {"type": "string", "minLength": 1}},
                     "required": ["path"]},
                    {"type": "object", "properties": {"filePath": {"type": "string",
                     "minLength": 1}}, "required": ["filePath"]},
                ]
            }
        },
        "required": ["metadata"],
    },
]  # fmt: skip
"""An ask gives patterns, or metadata the server derives them from (the permission
service's rule, which raises InvalidRequest naming ``patterns`` otherwise)."""


@closed
@attrs.define
class Ask:
    """patterns, or metadata to derive them from: metadata.command for bash,
    metadata.path (or filePath) for file tools."""

    json_schema_extra: ClassVar[dict[str, Any]] = {"anyOf": _DERIVABLE}

    permission: Name
    patterns: (
        Annotated[
            list[Pattern],
            msgspec.Meta(
                min_length=1,
                max_length=MAX_PATTERNS,
                description="what is asked; omit to derive from metadata",
            ),
        ]
        | None
    ) = None
    metadata: (
        Annotated[
            dict[str, Any],
            msgspec.Meta(description=f"at most {MAX_METADATA_BYTES} bytes as JSON (configurable)"),
        ]
        | None
    ) = None
    always: (
        Annotated[
            list[Pattern],
            msgspec.Meta(max_length=MAX_PATTERNS, description="patterns an always reply saves"),
        ]
        | None
    ) = None
    tool: Tool | None = None
    timeout: Seconds | None = None


# --- query strings -----------------------------------------------------------------------


@attrs.define
class Scoped:
    directory: Directory | None = None


@attrs.define
class AskQuery:
    wait: Annotated[bool, msgspec.Meta(description="hold the answer until the request ends")] = (
        False
    )


@attrs.define
class WaitQuery:
    timeout: WaitSeconds | None = None


Limit = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        le=MAX_LIMIT,
        description=f"rows per page, at most {MAX_LIMIT} ({DEFAULT_LIMIT} if absent)",
    ),
]


def _cursor(kind: str) -> msgspec.Meta:
    return msgspec.Meta(
        pattern=cursor_pattern(kind),
        description="where the page starts: the x-next-cursor of the previous page (opaque)",
    )


SessionsCursor = Annotated[str, _cursor("sessions")]
PendingCursor = Annotated[str, _cursor("pending")]
SavedCursor = Annotated[str, _cursor("saved")]
HistoryCursor = Annotated[str, _cursor("history")]


@attrs.define
class SessionsQuery:
    limit: Limit = DEFAULT_LIMIT
    cursor: SessionsCursor | None = None


@attrs.define
class PendingQuery:
    limit: Limit = DEFAULT_LIMIT
    cursor: PendingCursor | None = None


@attrs.define
class SavedQuery:
    scope: Scope | None = None
    sessionID: SessionID | None = None
    limit: Limit = DEFAULT_LIMIT
    cursor: SavedCursor | None = None


@attrs.define
class HistoryQuery:
    sessionID: SessionID | None = None
    state: State | None = None
    limit: Limit = DEFAULT_LIMIT
    decider: DeciderKind | None = None
    since: Annotated[int, _time("created at or after")] | None = None
    until: Annotated[int, _time("created before")] | None = None
    before: (
        Annotated[
            str,
            msgspec.Meta(
                pattern=PATH_IDS["requestID"].pattern,
                description="only requests asked before this one",
            ),
        ]
        | None
    ) = None
    cursor: HistoryCursor | None = None


# --- headers (documented; read by ``_inputs``) --------------------------------------------


@attrs.define
class DirectoryHeader:
    x_opencode_directory: (
        Annotated[
            str,
            msgspec.Meta(
                pattern="^(?!.*%00)(/|%2[Ff]|$)",
                description="the directory in scope, URL-encoded, absolute, no NUL; empty: absent",
            ),
        ]
        | None
    ) = None


@attrs.define
class PageHeaders:
    """Where the next page of a list starts; both absent on the last page."""

    link: (
        Annotated[str, msgspec.Meta(description='<the next page\'s URL, relative>; rel="next"')]
        | None
    ) = None
    x_next_cursor: (
        Annotated[str, msgspec.Meta(pattern=cursor_pattern(), description="the next page's cursor")]
        | None
    ) = None


@attrs.define
class StreamHeaders:
    last_event_id: Annotated[str, EVENT_ID] | None = None  # resume after this event


# --- the inbox page's views --------------------------------------------------------------


@attrs.define
class Display:
    """What an approver is shown of a request: the command or path and the patterns as
    the shell analyser's display text (invisible and direction-control characters made
    visible as ``<U+XXXX>``, long text shortened in the middle)."""

    text: Annotated[str, msgspec.Meta(description="the command, else the path")] | None
    patterns: list[str]
    saves: Annotated[list[str], msgspec.Meta(description="what an always reply saves")]
    notes: Annotated[list[str], msgspec.Meta(description="why no rule may allow it")]


@attrs.define
class InboxRequest:
    """A request as the inbox shows it: its state, what to show, its session's title."""

    request: PermissionState
    display: Display
    sessionTitle: str | None = None


@attrs.define
class InboxPending:
    """The pending requests of every directory, newest first: at most limit of them,
    out of total."""

    total: int
    requests: list[InboxRequest]


@attrs.define
class InboxQuery:
    limit: Limit = DEFAULT_LIMIT

"""The domain's values: frozen attrs classes, no JSON (that lives in ``_wire``).

Times are Unix milliseconds (OpenCode's wire uses them), as floats-free ints.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal

import attrs

Action = Literal["allow", "ask", "deny"]
ReplyKind = Literal["once", "always", "reject"]
RequestState = Literal["pending", "replied", "expired", "aborted"]
Scope = Literal["session", "project"]

ACTIONS: tuple[Action, ...] = ("allow", "ask", "deny")
REPLIES: tuple[ReplyKind, ...] = ("once", "always", "reject")
SCOPES: tuple[Scope, ...] = ("session", "project")
STRICTNESS: dict[Action, int] = {"allow": 0, "ask": 1, "deny": 2}


def now_ms() -> int:
    """The current time in Unix milliseconds."""
    return time.time_ns() // 1_000_000


@attrs.frozen
class Rule:
    """``permission`` and ``pattern`` are wildcards (``*``, ``?``); the last match wins."""

    permission: str
    pattern: str
    action: Action
    source: str = attrs.field(default="", eq=False)  # where it came from, for messages

    def describe(self) -> str:
        origin = f" ({self.source})" if self.source else ""
        return f"{self.permission} {self.pattern!r} = {self.action}{origin}"


@attrs.frozen
class Decider:
    """Who or what ended a request.

    ``kind``: user | plugin | rule | approval | timeout | abort | cascade | shutdown |
    asker (the asker withdrew its own request).
    ``name``: the plugin's name, the rule, the approval id, the originating request.
    ``address``: the client address of a user replying over HTTP.
    """

    kind: str
    name: str | None = None
    address: str | None = None


BY_USER = Decider("user")
BY_ABORT = Decider("abort")
BY_ASKER = Decider("asker")
BY_SHUTDOWN = Decider("shutdown")
BY_TIMEOUT = Decider("timeout")


@attrs.frozen
class ToolRef:
    message_id: str
    call_id: str


@attrs.frozen
class Session:
    id: str
    slug: str
    directory: str
    title: str
    created: int
    updated: int
    parent_id: str | None = None
    project_id: str = "global"
    permission: tuple[Rule, ...] = ()


@attrs.frozen
class PermissionRequest:
    """A request, pending or final.  ``reply`` tells the outcome of a final one:
    ``once``/``always`` let the asker go on, ``reject`` does not (also for deny,
    expiry and abort)."""

    id: str
    session_id: str
    directory: str
    permission: str
    patterns: tuple[str, ...]
    metadata: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    always: tuple[str, ...] = ()
    tool: ToolRef | None = None
    created: int = attrs.field(factory=now_ms)
    expires_at: int | None = None
    effect: Action = "ask"
    state: RequestState = "pending"
    reply: ReplyKind | None = None
    message: str | None = None
    decided_by: Decider | None = None
    decided_at: int | None = None
    rule: Rule | None = None

    @property
    def pending(self) -> bool:
        return self.state == "pending"

    @property
    def allowed(self) -> bool:
        """Whether the final outcome lets the asker proceed."""
        return self.reply in ("once", "always")

    @property
    def saves(self) -> tuple[str, ...]:
        """The patterns an ``always`` reply saves: ``always``, else the patterns."""
        return self.always or self.patterns


@attrs.frozen
class Inbox:
    """The pending requests of every directory, newest first: the newest few of them
    (``requests``) and how many there are (``total``)."""

    total: int
    requests: tuple[PermissionRequest, ...]


@attrs.frozen
class SavedApproval:
    """An "always": ``permission``/``pattern`` allowed in a session or a project."""

    id: str
    permission: str
    pattern: str
    scope: Scope
    session_id: str
    directory: str
    created: int
    saved_by: Decider
    request_id: str | None = None


@attrs.frozen
class Event:
    """One bus event.  ``properties`` is JSON-ready (the wire shape of its type)."""

    id: str
    type: str
    properties: Mapping[str, Any] = attrs.field(hash=False)
    directory: str | None = None
    time: int = attrs.field(factory=now_ms)

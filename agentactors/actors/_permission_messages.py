"""The messages the ``permission`` service answers (frozen attrs classes): its sessions,
its requests, its saved approvals and the policy plugins' say."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from agentactors.actors.runtime import Request
from agentactors.model import (
    BY_SHUTDOWN,
    BY_USER,
    DEFAULT_LIMIT,
    Decider,
    Page,
    PermissionRequest,
    Rule,
    SavedApproval,
    Session,
    ToolRef,
)

PERMISSION = "permission"
MAX_TIMEOUT = 7 * 24 * 3600.0


# --- sessions ---------------------------------------------------------------------------


@attrs.frozen
class CreateSession(Request[Session]):
    directory: str
    title: str | None = None
    parent_id: str | None = None
    permission: tuple[Rule, ...] = ()


@attrs.frozen
class GetSession(Request[Session]):
    session_id: str


@attrs.frozen
class ListSessions(Request[Page[Session]]):
    """A page of the sessions (of ``directory``; all if None), most recently updated
    first, after ``cursor`` (the previous page's ``next_cursor``)."""

    directory: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@attrs.frozen
class UpdateSession(Request[Session]):
    session_id: str
    title: str | None = None
    permission: tuple[Rule, ...] | None = None


@attrs.frozen
class DeleteSession(Request[list[str]]):
    """Delete a session and its descendants (answered with their ids); their pending
    requests end as aborted."""

    session_id: str


@attrs.frozen
class AbortSession(Request[list[str]]):
    """End the pending requests of a session and its descendants (answered with their
    ids)."""

    session_id: str


# --- permission requests ----------------------------------------------------------------


@attrs.frozen
class AskPermission(Request[PermissionRequest]):
    """Answered with the request as asked (pending, or decided at once by a rule, an
    approval or a policy plugin); with ``wait``, with its final state once it ends."""

    session_id: str
    permission: str
    patterns: tuple[str, ...]
    metadata: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    always: tuple[str, ...] = ()
    tool: ToolRef | None = None
    timeout: float | None = None  # seconds; None: the configured default
    wait: bool = False
    request_id: str | None = None  # pre-assigned (a fresh ``new_id("per")``), or None


@attrs.frozen
class ReplyPermission(Request[PermissionRequest]):
    request_id: str
    reply: str
    message: str | None = None
    session_id: str | None = None  # when given, the request must belong to it
    decided_by: Decider = BY_USER  # BY_ASKER with reject: withdrawn (no reject cascade)
    scope: str = "session"  # where an "always" is saved


@attrs.frozen
class GetPermission(Request[PermissionRequest]):
    request_id: str
    session_id: str | None = None


@attrs.frozen
class WaitPermission(Request[PermissionRequest]):
    """Answered with the request's final state, once it has ended."""

    request_id: str
    session_id: str | None = None


@attrs.frozen
class ListPending(Request[Page[PermissionRequest]]):
    """A page of the pending requests, in the order they were asked (by id), after
    ``cursor`` (the previous page's ``next_cursor``)."""

    directory: str | None = None
    session_id: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@attrs.frozen
class EndAll(Request[int]):
    """End every pending request (an operator-requested shutdown)."""

    decided_by: Decider = BY_SHUTDOWN


@attrs.frozen
class Expire:
    request_id: str


@attrs.frozen
class ListSaved(Request[Page[SavedApproval]]):
    """A page of the saved approvals, in the order they were saved (by id), after
    ``cursor``."""

    scope: str | None = None
    session_id: str | None = None
    directory: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@attrs.frozen
class RevokeSaved(Request[SavedApproval]):
    approval_id: str


@attrs.frozen
class SetPolicies:
    """From the plugin host: the plugin actors whose policy hook sees each ask."""

    names: tuple[str, ...]
    timeout: float = 5.0


@attrs.frozen
class Evaluate(Request[Any]):
    """To a policy plugin: decide ``request`` (answer allow/deny/None)."""

    request: PermissionRequest


@attrs.frozen
class Verdict:
    """A policy plugin's answer (or its failure), posted back to ``permission``."""

    request_id: str
    plugin: str
    effect: str | None  # "allow" | "deny" | None (no opinion, raised, or timed out)
    reason: str | None = None


@attrs.frozen
class PolicyDeadline:
    request_id: str

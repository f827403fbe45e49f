"""What a client can ask, as values: one class per operation.

Both transports take these: the in-process one turns each into messages to the named
services (:mod:`._local`), the HTTP one into a request to the server (:mod:`._remote`).
So ``Client`` and ``AsyncClient`` are one list of methods over two transports, and a
test body runs unchanged over either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

import attrs

from agentactors.model import (
    DEFAULT_LIMIT,
    Inbox,
    Page,
    PermissionRequest,
    SavedApproval,
    Session,
)

T = TypeVar("T")


class Op(Generic[T]):
    """An operation answered with a ``T`` (each transport returns that type)."""

    __slots__ = ()


@attrs.frozen
class CreateSession(Op[Session]):
    directory: str
    title: str | None = None
    parent_id: str | None = None
    permission: Sequence[Mapping[str, str]] = ()


@attrs.frozen
class GetSession(Op[Session]):
    session_id: str


@attrs.frozen
class ListSessions(Op[Page[Session]]):
    directory: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None  # the previous page's next_cursor


@attrs.frozen
class AbortSession(Op[None]):
    session_id: str


@attrs.frozen
class Ask(Op[PermissionRequest]):
    session_id: str
    permission: str
    patterns: Sequence[str] = ()
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
    always: Sequence[str] = ()
    timeout: float | None = None  # the request's own life, seconds
    wait: bool = False  # hold until decided (then the final state is returned)


@attrs.frozen
class GetPermission(Op[PermissionRequest]):
    request_id: str


@attrs.frozen
class WaitPermission(Op[PermissionRequest]):
    request_id: str
    timeout: float | None = None


@attrs.frozen
class ListPending(Op[Page[PermissionRequest]]):
    directory: str | None = None
    session_id: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@attrs.frozen
class ListInbox(Op[Inbox]):
    """Every directory's pending requests, newest first (``GET /inbox/pending``)."""

    limit: int = DEFAULT_LIMIT


@attrs.frozen
class Reply(Op[PermissionRequest]):
    request_id: str
    reply: str
    message: str | None = None
    session_id: str | None = None
    scope: str = "session"


@attrs.frozen
class Withdraw(Op[PermissionRequest]):
    request_id: str


@attrs.frozen
class ListSaved(Op[Page[SavedApproval]]):
    scope: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@attrs.frozen
class RevokeSaved(Op[SavedApproval]):
    approval_id: str


@attrs.frozen
class History(Op[Page[PermissionRequest]]):
    session_id: str | None = None
    state: str | None = None
    limit: int = DEFAULT_LIMIT
    decider: str | None = None
    since: int | None = None  # Unix ms, inclusive
    until: int | None = None  # Unix ms, exclusive
    before: str | None = None  # only requests asked before this id
    cursor: str | None = None  # the previous page's next_cursor (not with before)

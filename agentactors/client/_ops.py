"""What a client can ask, as values: one class per operation.

Both transports take these: the in-process one turns each into messages to the named
services (:mod:`._local`), the HTTP one into a request to the server (:mod:`._remote`).
So ``Client`` and ``AsyncClient`` are one list of methods over two transports, and a
test body runs unchanged over either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from agentactors.model import DEFAULT_LIMIT


@attrs.frozen
class CreateSession:
    directory: str
    title: str | None = None
    parent_id: str | None = None
    permission: Sequence[Mapping[str, str]] = ()


@attrs.frozen
class GetSession:
    session_id: str


@attrs.frozen
class ListSessions:
    directory: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None  # the previous page's next_cursor


@attrs.frozen
class AbortSession:
    session_id: str


@attrs.frozen
class Ask:
    session_id: str
    permission: str
    patterns: Sequence[str] = ()
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
    always: Sequence[str] = ()
    timeout: float | None = None  # the request's own life, seconds
    wait: bool = False  # hold until decided (then the final state is returned)


@attrs.frozen
class GetPermission:
    request_id: str


@attrs.frozen
class WaitPermission:
    request_id: str
    timeout: float | None = None


@attrs.frozen
class ListPending:
    directory: str | None = None
    session_id: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@attrs.frozen
class Reply:
    request_id: str
    reply: str
    message: str | None = None
    session_id: str | None = None
    scope: str = "session"


@attrs.frozen
class Withdraw:
    request_id: str


@attrs.frozen
class ListSaved:
    scope: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@attrs.frozen
class RevokeSaved:
    approval_id: str


@attrs.frozen
class History:
    session_id: str | None = None
    state: str | None = None
    limit: int = DEFAULT_LIMIT
    decider: str | None = None
    since: int | None = None  # Unix ms, inclusive
    until: int | None = None  # Unix ms, exclusive
    before: str | None = None  # only requests asked before this id
    cursor: str | None = None  # the previous page's next_cursor (not with before)


Op = (
    CreateSession
    | GetSession
    | ListSessions
    | AbortSession
    | Ask
    | GetPermission
    | WaitPermission
    | ListPending
    | Reply
    | Withdraw
    | ListSaved
    | RevokeSaved
    | History
)

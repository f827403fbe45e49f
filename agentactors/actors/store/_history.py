"""The audit log's query: what a history page selects, checked the same way by every
state (memory or SQLite)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

from agentactors.actors.runtime import Request
from agentactors.model import (
    DEFAULT_LIMIT,
    InvalidRequest,
    Page,
    PermissionRequest,
    check_limit,
    is_id,
    page_of,
    read_cursor,
)

DECIDER_KINDS = (
    "user", "plugin", "rule", "approval", "timeout", "abort", "cascade", "shutdown", "asker",
)  # fmt: skip


@attrs.frozen
class History(Request[Page[PermissionRequest]]):
    """A page of the audit log, newest first (requests in the order they were asked).

    Every filter is optional: ``decider`` is a ``decidedBy`` kind (user, plugin, rule,
    approval, timeout, abort, cascade, shutdown, asker); ``since``/``until`` bound
    ``created`` (Unix ms, since inclusive, until exclusive).  Where to start: after
    ``cursor``, the previous page's ``next_cursor``, and before ``before``, a request id:
    only requests asked before it follow (either or both; an unknown id gives none).
    """

    session_id: str | None = None
    state: str | None = None
    limit: int = DEFAULT_LIMIT
    decider: str | None = None
    since: int | None = None
    until: int | None = None
    before: str | None = None
    cursor: str | None = None


def check_history(query: History) -> None:
    """Raise :class:`InvalidRequest` for a history query no state could answer."""
    check_limit(query.limit)
    if query.cursor is not None:
        read_cursor("history", query.cursor)
    if query.decider is not None and query.decider not in DECIDER_KINDS:
        raise InvalidRequest(
            f"decider must be one of {', '.join(DECIDER_KINDS)}, not {query.decider!r}",
            field="decider",
        )
    if query.before is not None and not is_id(query.before, "per"):
        raise InvalidRequest(
            f'before must be a request id starting with "per_", got {query.before!r}',
            field="before",
        )
    for field in ("since", "until"):
        value = getattr(query, field)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidRequest(f"{field} must be a time in Unix milliseconds", field=field)


def history_bounds(query: History) -> set[str]:
    """The ids a (checked) history query's rows were all asked after: its cursor's
    and ``before``, either or both."""
    bounds = {query.before} if query.before is not None else set()
    if query.cursor is not None:
        bounds.add(str(read_cursor("history", query.cursor)[0]))
    return bounds


def history_page(rows: list[PermissionRequest], query: History) -> Page[PermissionRequest]:
    """Up to ``query.limit + 1`` selected rows as a page (the extra one: more follow)."""
    return page_of(rows, query.limit, "history", lambda r: (r.id,))


def select_history(
    newest_first: Iterable[PermissionRequest], query: History
) -> Page[PermissionRequest]:
    """The page of ``newest_first`` that ``query`` selects (the SQL store's twin:
    ``_rows.query_history``; the tests run both)."""
    rows: Iterator[PermissionRequest] = iter(newest_first)
    bounds = history_bounds(query)
    if bounds:
        for request in rows:
            bounds.discard(request.id)
            if not bounds:
                break
        else:
            return Page()  # an unknown id: nothing older is known
    out: list[PermissionRequest] = []
    for r in rows:
        if (
            (query.session_id is None or r.session_id == query.session_id)
            and (query.state is None or r.state == query.state)
            and (
                query.decider is None
                or (r.decided_by is not None and r.decided_by.kind == query.decider)
            )
            and (query.since is None or r.created >= query.since)
            and (query.until is None or r.created < query.until)
        ):
            out.append(r)
            if len(out) > query.limit:
                break
    return history_page(out, query)

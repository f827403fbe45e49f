"""Pages of a long list: the limit, the opaque cursor, and :class:`Page`.

Every list the services answer (sessions, pending requests, saved approvals, history) is
keyset-paged: a page holds at most ``limit`` rows in the list's stable order, and its
:attr:`Page.next_cursor` names the last row's sort key, so the next page starts right
after it whatever was added or removed meanwhile.  A cursor is opaque to clients (a tag
for the kind of list, then the key); every string of its documented form is one, so a
well-formed cursor is never refused (a key no row has still has a place in the order).
Pure functions; nothing blocks.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from ._errors import InvalidRequest

T = TypeVar("T")
K = TypeVar("K", bound=tuple[Any, ...])

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

_ULID = "[0-9A-HJKMNP-TV-Z]{26}"
_TIME = "[0-9]{1,18}"  # Unix ms; 18 digits stay below SQLite's and Python's int64 bounds
_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sessions": ("s", ("time", "ses")),  # newest updated first: (updated, id)
    "pending": ("p", ("per",)),  # by id: the order they were asked in
    "saved": ("a", ("apr",)),  # by id: the order they were saved in
    "history": ("h", ("per",)),  # the id of the last row (newest first)
}
"""Each kind of list: its cursors' tag and its key's parts (``time`` a whole number,
else the prefix of an id, which the cursor leaves out)."""


def cursor_pattern(kind: str | None = None) -> str:
    """The regular expression every cursor of ``kind`` (of any kind if None) matches,
    and nothing else: so a schema can say exactly which cursors a route takes."""
    if kind is None:
        return "^(?:" + "|".join(cursor_pattern(k).strip("^$") for k in _KINDS) + ")$"
    tag, parts = _KINDS[kind]
    return "^" + "[.]".join((tag, *(_TIME if p == "time" else _ULID for p in parts))) + "$"


_PATTERNS = {kind: re.compile(cursor_pattern(kind).strip("^$")) for kind in _KINDS}


class Page(list[T]):
    """One page: the rows (a plain list to every reader) and :attr:`next_cursor`, where
    the next page starts (``None``: this is the last page)."""

    __slots__ = ("next_cursor",)

    def __init__(self, rows: Iterable[T] = (), next_cursor: str | None = None) -> None:
        super().__init__(rows)
        self.next_cursor = next_cursor

    def __repr__(self) -> str:
        return f"Page({list.__repr__(self)}, next_cursor={self.next_cursor!r})"


def check_limit(limit: object) -> int:
    """``limit`` if it is a whole number in 1..MAX_LIMIT.  Raises InvalidRequest."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(
            f"limit must be a whole number in 1..{MAX_LIMIT}, not {limit!r}", field="limit"
        )
    return limit


def make_cursor(kind: str, *key: int | str) -> str:
    """The cursor of the row with sort ``key`` in a list of ``kind``."""
    tag, parts = _KINDS[kind]
    values = (
        str(v) if p == "time" else str(v).removeprefix(f"{p}_")
        for p, v in zip(parts, key, strict=True)
    )
    return ".".join((tag, *values))


def read_cursor(kind: str, cursor: str) -> tuple[int | str, ...]:
    """The sort key a cursor of ``kind`` names.  Raises InvalidRequest (field
    ``cursor``) unless ``cursor`` has the form this module makes for that kind."""
    if not isinstance(cursor, str) or not _PATTERNS[kind].fullmatch(cursor):
        raise InvalidRequest(
            f"cursor: not a cursor of this list, {str(cursor)[:40]!r}; "
            "give the x-next-cursor of the previous page",
            field="cursor",
        )
    _, parts = _KINDS[kind]
    values = cursor.split(".")[1:]
    return tuple(
        int(value) if part == "time" else f"{part}_{value}"
        for part, value in zip(parts, values, strict=True)
    )


def page_of(
    rows: list[T], limit: int, kind: str, key: Callable[[T], tuple[int | str, ...]]
) -> Page[T]:
    """``rows`` (up to ``limit + 1`` of them, in order) as a page of at most ``limit``:
    the one past ``limit`` only says that more follow."""
    if len(rows) <= limit:
        return Page(rows)
    return Page(rows[:limit], make_cursor(kind, *key(rows[limit - 1])))


def page_by_id(
    rows: Iterable[T], id_of: Callable[[T], str], kind: str, limit: int, cursor: str | None
) -> Page[T]:
    """The page of ``rows`` (any order) sorted by id, after ``cursor``: one pass, holding
    no more than ``limit + 1`` rows (a heap), never the whole list sorted.  Raises
    InvalidRequest for a bad limit or cursor."""
    check_limit(limit)
    after = None if cursor is None else str(read_cursor(kind, cursor)[0])
    if after is not None:
        rows = (row for row in rows if id_of(row) > after)
    return page_of(heapq.nsmallest(limit + 1, rows, key=id_of), limit, kind, lambda r: (id_of(r),))


class SortedKeys(Generic[K]):
    """Sort keys kept in order (bisect), for pages read from the newest end without
    sorting the list per request.  Adding or removing a key moves the tail of one array
    (microseconds for tens of thousands); reading a page is a bisection and a slice."""

    def __init__(self, keys: Iterable[K] = ()) -> None:
        self._keys: list[K] = sorted(keys)

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: K) -> None:
        bisect.insort(self._keys, key)

    def discard(self, key: K) -> None:
        index = bisect.bisect_left(self._keys, key)
        if index < len(self._keys) and self._keys[index] == key:
            del self._keys[index]

    def below(self, key: K | None, count: int) -> list[K]:
        """The ``count`` greatest keys less than ``key`` (all keys if None), greatest first."""
        end = len(self._keys) if key is None else bisect.bisect_left(self._keys, key)
        return self._keys[max(0, end - count) : end][::-1]

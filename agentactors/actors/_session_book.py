"""The sessions of the permission actor, by id and in list order.

Lists are pages, most recently updated first (OpenCode's order; ties by id, newest
first), read from a sorted index per directory (and one of all), so a page costs the
same whatever the number of sessions.  A session updated while a client walks the pages
moves to the front: a walk sees every session that stays unchanged exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable

from agentactors.model import Page, Session, SortedKeys, page_of, read_cursor


class SessionBook:
    """The sessions by id, with their list order (all, and per directory).  Plain data
    of one actor: no lock, no I/O."""

    def __init__(self, sessions: Iterable[Session] = ()) -> None:
        self._sessions: dict[str, Session] = {s.id: s for s in sessions}
        keys: dict[str | None, list[tuple[int, str]]] = {None: []}
        for session in self._sessions.values():
            keys[None].append(_key(session))
            keys.setdefault(session.directory, []).append(_key(session))
        self._order = {directory: SortedKeys(index) for directory, index in keys.items()}

    def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def __len__(self) -> int:
        return len(self._sessions)

    def put(self, session: Session) -> None:
        """Add or replace ``session`` (by id), in its place in the lists."""
        old = self._sessions.get(session.id)
        if old is not None:
            self._unlist(old)
        self._sessions[session.id] = session
        self._order[None].add(_key(session))
        self._index(session.directory).add(_key(session))

    def pop(self, session_id: str) -> Session:
        """Remove a session; raises ``KeyError`` if there is none of that id."""
        session = self._sessions.pop(session_id)
        self._unlist(session)
        return session

    def tree(self, root: str) -> list[str]:
        """``root`` and the ids of all its descendants, parents before children."""
        ids, frontier = [root], [root]
        while frontier:
            parent = frontier.pop()
            children = [s.id for s in self._sessions.values() if s.parent_id == parent]
            ids.extend(children)
            frontier.extend(children)
        return ids

    def page(self, directory: str | None, limit: int, cursor: str | None) -> Page[Session]:
        """A page of the sessions of ``directory`` (all if None), greatest key first,
        after ``cursor``."""
        after = None
        if cursor is not None:
            updated, session_id = read_cursor("sessions", cursor)
            after = (int(updated), str(session_id))
        index = self._order.get(directory)
        keys = index.below(after, limit + 1) if index is not None else []
        return page_of([self._sessions[i] for _, i in keys], limit, "sessions", _key)

    def _index(self, directory: str) -> SortedKeys[tuple[int, str]]:
        index = self._order.get(directory)
        if index is None:
            index = self._order[directory] = SortedKeys()
        return index

    def _unlist(self, session: Session) -> None:
        for index in (self._order[None], self._index(session.directory)):
            index.discard(_key(session))
        if not self._order[session.directory]:
            del self._order[session.directory]


def _key(session: Session) -> tuple[int, str]:
    """A session's place in the lists (greatest first)."""
    return (session.updated, session.id)

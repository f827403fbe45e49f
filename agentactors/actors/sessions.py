"""The ``sessions`` service: create, get, list, update, delete, abort.

Sessions form a tree (``parent_id``).  Deleting or aborting a session answers with the
ids of it and all its descendants; the caller (``agentactors.actors.api``) hands those to
``permission`` so their pending requests end — the two services never block on each
other.  Every change is told to ``permission`` (``SessionChanged``, ``SessionsRemoved``:
its read copy of the sessions), written through to the :class:`State` (memory or
journal) and reloaded from it by a restarted incarnation in :meth:`SessionsActor.setup`.

Lists are pages, most recently updated first (OpenCode's order; ties by id, newest
first), read from a sorted index per directory (and one of all), so a page costs the
same whatever the number of sessions.  A session updated while a client walks the pages
moves to the front: a walk sees every session that stays unchanged exactly once.
"""

from __future__ import annotations

import secrets
from typing import Any

import attrs

from agentactors.actors.runtime import Request, Service, handles, tell
from agentactors.actors.store import State
from agentactors.model import (
    DEFAULT_LIMIT,
    MAX_TITLE,
    InvalidRequest,
    Page,
    Rule,
    Session,
    SessionNotFound,
    SortedKeys,
    check_directory,
    check_limit,
    check_rules,
    check_text,
    is_id,
    new_id,
    now_ms,
    page_of,
    read_cursor,
    wire,
)

from ._permission_messages import PERMISSION, SessionChanged, SessionsRemoved
from .bus import publish

SESSIONS = "sessions"

_ADJECTIVES = ("calm", "brave", "quiet", "swift", "bright", "gentle", "bold", "keen")
_NOUNS = ("mountain", "river", "forest", "harbor", "meadow", "canyon", "island", "valley")

_UNSET: Any = object()


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
    session_id: str


@attrs.frozen
class AbortSession(Request[list[str]]):
    session_id: str


class SessionsActor(Service):
    """Owns every session; answers with frozen :class:`Session` values."""

    def __init__(self, *, state: State) -> None:
        super().__init__()
        self._state = state
        self._sessions: dict[str, Session] = {}
        self._order: dict[str | None, SortedKeys[tuple[int, str]]] = {}  # None: all

    def setup(self) -> None:
        self._state.attach(self)
        self._sessions = {s.id: s for s in self._state.sessions()}
        self._order = {None: SortedKeys(_key(s) for s in self._sessions.values())}
        for session in self._sessions.values():
            self._index(session.directory).add(_key(session))

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

    def _get(self, session_id: str) -> Session:
        if not is_id(session_id, "ses"):
            raise InvalidRequest(
                f'Expected a session id starting with "ses_", got {session_id!r}',
                field="sessionID",
            )
        try:
            return self._sessions[session_id]
        except KeyError:
            raise SessionNotFound(session_id) from None

    def _tree(self, root: str) -> list[str]:
        ids, frontier = [root], [root]
        while frontier:
            parent = frontier.pop()
            children = [s.id for s in self._sessions.values() if s.parent_id == parent]
            ids.extend(children)
            frontier.extend(children)
        return ids

    def _save(self, session: Session, event: str) -> Session:
        old = self._sessions.get(session.id)
        if old is not None:
            self._unlist(old)
        self._sessions[session.id] = session
        self._order[None].add(_key(session))
        self._index(session.directory).add(_key(session))
        self._state.put_session(session)
        # Before our answer: the caller's next message to permission queues behind this.
        tell(PERMISSION, SessionChanged(session))
        publish(event, {"sessionID": session.id, "info": wire.session(session)}, session.directory)
        return session

    @handles(CreateSession)
    def _create(self, message: CreateSession) -> Session:
        directory = check_directory(message.directory)
        _check_title(message.title)
        permission = check_rules(message.permission)
        if message.parent_id is not None:
            self._get(message.parent_id)
        created = now_ms()
        session_id = new_id("ses")
        session = Session(
            id=session_id,
            slug=f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}",
            directory=directory,
            title=message.title or f"Session {session_id[-6:]}",
            created=created,
            updated=created,
            parent_id=message.parent_id,
            permission=permission,
        )
        return self._save(session, "session.created")

    @handles(GetSession)
    def _get_session(self, message: GetSession) -> Session:
        return self._get(message.session_id)

    @handles(ListSessions)
    def _list(self, message: ListSessions) -> Page[Session]:
        limit = check_limit(message.limit)
        after = None
        if message.cursor is not None:
            updated, session_id = read_cursor("sessions", message.cursor)
            after = (int(updated), str(session_id))
        index = self._order.get(message.directory)  # None: the index of all
        keys = index.below(after, limit + 1) if index is not None else []
        return page_of([self._sessions[i] for _, i in keys], limit, "sessions", _key)

    @handles(UpdateSession)
    def _update(self, message: UpdateSession) -> Session:
        session = self._get(message.session_id)
        changes: dict[str, Any] = {"updated": max(now_ms(), session.updated)}
        if message.title is not None:
            changes["title"] = _check_title(message.title)
        if message.permission is not None:
            changes["permission"] = check_rules(message.permission)
        return self._save(attrs.evolve(session, **changes), "session.updated")

    @handles(DeleteSession)
    def _delete(self, message: DeleteSession) -> list[str]:
        session = self._get(message.session_id)
        ids = self._tree(session.id)
        for session_id in reversed(ids):
            gone = self._sessions.pop(session_id)
            self._unlist(gone)
            publish(
                "session.deleted",
                {"sessionID": session_id, "info": wire.session(gone)},
                gone.directory,
            )
        self._state.delete_sessions(ids)
        tell(PERMISSION, SessionsRemoved(tuple(ids)))
        return ids

    @handles(AbortSession)
    def _abort(self, message: AbortSession) -> list[str]:
        return self._tree(self._get(message.session_id).id)


def _check_title(title: str | None) -> str | None:
    return None if title is None else check_text(title, "title", limit=MAX_TITLE, empty=True)


def _key(session: Session) -> tuple[int, str]:
    """A session's place in the lists (greatest first)."""
    return (session.updated, session.id)

"""The permission actor's sessions: create, get, list, update, delete, abort.

Sessions are state of the permission actor, not a service of their own: an ask reads its
session's directory and rules, and deleting or aborting a session ends its pending
requests, in the same handler and the same batch.  So a session and the requests in it
have one owner, and nothing keeps a copy of either.

Sessions form a tree (``parent_id``).  Deleting or aborting a session acts on it and all
its descendants and answers with their ids.  The list order is ``_session_book.py``'s.
"""

from __future__ import annotations

import secrets
from typing import Any

import attrs

from agentactors.actors.runtime import handles
from agentactors.model import (
    BY_ABORT,
    MAX_TITLE,
    Decider,
    InvalidRequest,
    Page,
    Session,
    SessionNotFound,
    check_directory,
    check_limit,
    check_rules,
    check_text,
    is_id,
    new_id,
    now_ms,
    wire,
)

from ._permission_core import PermissionCore
from ._permission_messages import (
    AbortSession,
    CreateSession,
    DeleteSession,
    GetSession,
    ListSessions,
    UpdateSession,
)
from .bus import publish

_ADJECTIVES = ("calm", "brave", "quiet", "swift", "bright", "gentle", "bold", "keen")
_NOUNS = ("mountain", "river", "forest", "harbor", "meadow", "canyon", "island", "valley")

BY_DELETE = Decider("abort", name="session deleted")


class SessionHandlers(PermissionCore):
    """The session messages of the permission actor (a part of ``PermissionActor``)."""

    def _session(self, session_id: str) -> Session:
        if not is_id(session_id, "ses"):
            raise InvalidRequest(
                f'Expected a session id starting with "ses_", got {session_id!r}',
                field="sessionID",
            )
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionNotFound(session_id)
        return session

    def _save_session(self, session: Session, event: str) -> Session:
        self._sessions.put(session)
        self._state.put_session(session)
        publish(event, {"sessionID": session.id, "info": wire.session(session)}, session.directory)
        return session

    def _end_tree(self, ids: list[str], decided_by: Decider) -> None:
        """End the pending requests of the sessions ``ids`` (rejected, ``decided_by``)."""
        wanted = set(ids)
        ended = [e.request.id for e in self._pending.values() if e.request.session_id in wanted]
        for request_id in ended:
            self._finish(request_id, "aborted", "reject", decided_by)

    @handles(CreateSession)
    def _create_session(self, message: CreateSession) -> Session:
        directory = check_directory(message.directory)
        _check_title(message.title)
        permission = check_rules(message.permission)
        if message.parent_id is not None:
            self._session(message.parent_id)
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
        return self._save_session(session, "session.created")

    @handles(GetSession)
    def _get_session(self, message: GetSession) -> Session:
        return self._session(message.session_id)

    @handles(ListSessions)
    def _list_sessions(self, message: ListSessions) -> Page[Session]:
        return self._sessions.page(message.directory, check_limit(message.limit), message.cursor)

    @handles(UpdateSession)
    def _update_session(self, message: UpdateSession) -> Session:
        session = self._session(message.session_id)
        changes: dict[str, Any] = {"updated": max(now_ms(), session.updated)}
        if message.title is not None:
            changes["title"] = _check_title(message.title)
        if message.permission is not None:
            changes["permission"] = check_rules(message.permission)
        return self._save_session(attrs.evolve(session, **changes), "session.updated")

    @handles(DeleteSession)
    def _delete_session(self, message: DeleteSession) -> list[str]:
        """Delete the session and its descendants; their pending requests end first
        (aborted, ``session deleted``)."""
        ids = self._sessions.tree(self._session(message.session_id).id)
        self._end_tree(ids, BY_DELETE)
        for session_id in reversed(ids):  # children before their parents
            gone = self._sessions.pop(session_id)
            publish(
                "session.deleted",
                {"sessionID": session_id, "info": wire.session(gone)},
                gone.directory,
            )
        self._state.delete_sessions(ids)
        return ids

    @handles(AbortSession)
    def _abort_session(self, message: AbortSession) -> list[str]:
        """End the pending requests of the session and its descendants (aborted)."""
        ids = self._sessions.tree(self._session(message.session_id).id)
        self._end_tree(ids, BY_ABORT)
        return ids


def _check_title(title: str | None) -> str | None:
    return None if title is None else check_text(title, "title", limit=MAX_TITLE, empty=True)

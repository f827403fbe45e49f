"""What every part of the permission actor shares: a pending request, the actor's state,
and the one way each request ends.

A request that never was pending ends in :meth:`PermissionCore._decide_at_once`; one that
becomes pending starts in :meth:`PermissionCore._open`; every end of a pending request —
reply, cascade, expiry, abort, shutdown — goes through :meth:`PermissionCore._finish`,
which stores the final state, completes the future and publishes ``permission.replied``,
in that order.  The handlers live in ``permission.py``, ``_permission_sessions.py``,
``_permission_policy.py`` and ``_permission_replies.py``.
"""

from __future__ import annotations

import time
from typing import Any

import attrs

from agentactors.actors.runtime import BridgeFuture, Service, TimerHandle, tell, timers
from agentactors.actors.store import State
from agentactors.model import (
    Action,
    Decider,
    InvalidRequest,
    PermissionNotFound,
    PermissionRequest,
    ReplyKind,
    RequestState,
    Rule,
    SavedApproval,
    is_id,
    now_ms,
    wire,
)
from agentactors.policy import Config, Decision, Derived, decide_checks

from ._permission_messages import PERMISSION, Expire
from ._session_book import SessionBook
from .bus import publish


@attrs.define(eq=False)
class Pending:
    """A pending request, its decision future and what cascades re-check it against."""

    request: PermissionRequest
    future: BridgeFuture[PermissionRequest]
    rules: tuple[Rule, ...]  # config + session rules at ask time, for cascade re-checks
    derived: Derived  # what the rules check, for cascade re-checks
    timer: TimerHandle | None = None


class PermissionCore(Service):
    """The permission actor's state and the steps its handlers share."""

    _config: Config
    _state: State
    _pending: dict[str, Pending]
    _approvals: dict[str, SavedApproval]
    _sessions: SessionBook

    def _arm(self, entry: Pending) -> None:
        expires_at = entry.request.expires_at
        if expires_at is None:
            return
        delay = (expires_at - now_ms()) / 1000
        request_id = entry.request.id
        if delay <= 0:  # overdue (it expired while the server was down): our own inbox,
            self.tell_self(Expire(request_id))  # since a tell by name may precede our start
            return
        entry.timer = timers.call_at(
            time.monotonic() + delay, lambda: tell(PERMISSION, Expire(request_id))
        )

    def _find(self, request_id: str, session_id: str | None) -> PermissionRequest:
        check_id(request_id, "per", "requestID")
        entry = self._pending.get(request_id)
        request = entry.request if entry else self._state.request(request_id)
        if request is None or (session_id is not None and request.session_id != session_id):
            raise PermissionNotFound(request_id)
        return request

    def _approvals_in_scope(self, session_id: str, directory: str) -> list[SavedApproval]:
        return [
            a
            for a in self._approvals.values()
            if (a.scope == "session" and a.session_id == session_id)
            or (a.scope == "project" and a.directory == directory)
        ]

    def _decide_at_once(
        self, entry: Pending, effect: Action, by: Decider, reason: str | None
    ) -> PermissionRequest:
        """End a request that never was pending (rule, approval or policy decision)."""
        final = self._decided(
            attrs.evolve(entry.request, effect=effect),
            state="replied",
            reply="once" if effect == "allow" else "reject",
            decided_by=by,
            message=reason,
        )
        self._state.put_request(final)
        self.complete_once_stored(entry.future, final, refused="unavailable")  # once stored
        return final

    def _open(self, entry: Pending) -> PermissionRequest:
        """Make a request pending: stored, timed, then published for humans."""
        request = entry.request
        self._pending[request.id] = entry
        self._state.put_request(request)  # stored before it is published
        self.guard(entry.future)  # not stored: the asker is told (503), not left waiting
        self._arm(entry)
        publish("permission.asked", wire.asked(request), request.directory)
        return request

    def _finish(
        self,
        request_id: str,
        state: RequestState,
        reply: ReplyKind,
        decided_by: Decider,
        message: str | None = None,
    ) -> PermissionRequest:
        """End a pending request: store, release waiters, publish — in that order."""
        entry = self._pending.pop(request_id)
        if entry.timer is not None:
            entry.timer.cancel()
        final = self._decided(
            entry.request, state=state, reply=reply, decided_by=decided_by, message=message
        )
        self._state.put_request(final)
        self.complete_once_stored(entry.future, final, refused="restart")  # released once stored
        publish("permission.replied", wire.replied(final), final.directory)
        return final

    @staticmethod
    def _decided(
        request: PermissionRequest,
        *,
        state: RequestState,
        reply: ReplyKind,
        decided_by: Decider,
        message: str | None,
    ) -> PermissionRequest:
        # Spelled out: attrs.evolve introspects the class on every call (a hot path).
        return PermissionRequest(
            id=request.id,
            session_id=request.session_id,
            directory=request.directory,
            permission=request.permission,
            patterns=request.patterns,
            metadata=request.metadata,
            always=request.always,
            tool=request.tool,
            created=request.created,
            expires_at=request.expires_at,
            effect=request.effect,
            state=state,
            reply=reply,
            message=message,
            decided_by=decided_by,
            decided_at=now_ms(),
            rule=request.rule,
        )


def check_id(value: str, prefix: str, field: str) -> None:
    """Raise :class:`InvalidRequest` unless ``value`` is an id with ``prefix``."""
    if not is_id(value, prefix):
        raise InvalidRequest(
            f'Expected a {field} starting with "{prefix}_", got {value!r}', field=field
        )


def id_of(row: PermissionRequest | SavedApproval) -> str:
    return row.id


def decide(rules: tuple[Rule, ...], approvals: list[SavedApproval], derived: Derived) -> Decision:
    return decide_checks(
        rules, approvals, derived.checks, opaque=derived.opaque, protected=bool(derived.protected)
    )


def rule_decider(decision: Any) -> Decider:
    if decision.approvals:
        return Decider("approval", name=",".join(a.id for a in decision.approvals))
    return Decider("rule", name=decision.rule.describe() if decision.rule else None)

"""The ``permission`` service: ask, reply, wait, expire, cascade (``design/flows.md``).

This module holds the actor, its life cycle, asking, reading and expiry; the shared state
and the one way a request ends are in ``_permission_core.py``, the sessions in
``_permission_sessions.py``, the policy plugins' say in ``_permission_policy.py``,
replies, cascades and saved approvals in ``_permission_replies.py``.

One actor owns every session, pending request and saved approval. Nothing here blocks: a
waiter gets the request's *decision future* (completed when the request ends) and awaits
it in its own world (trio task or thread); expiry comes as an :class:`Expire` message
from the timer thread; events leave with the actor's batch. An ask the rules leave at
``ask`` is first shown to the policy plugins (``Evaluate``; their ``Verdict`` or the
``PolicyDeadline`` decides), then made pending. Every end of a pending request — reply,
cascade, expiry, abort, shutdown — goes through :meth:`PermissionCore._finish`, which
stores the final state, completes the future and publishes ``permission.replied``, in
that order.

Crash: the decision futures fail with :class:`ServiceRestarting`; waiters re-attach by
id (``WaitPermission``: ``api.wait_permission``) to the restarted incarnation, which
reloads pending requests, saved approvals and timers from its :class:`State` in
:meth:`PermissionActor.setup`.

Durable state (a journal, see ``store/_journal.py``): futures are completed through
:meth:`Service.complete_once_stored`, so "complete the future" means "once the change is
stored"; a failed commit makes the store send ``Reload``, which fails the decision futures with
:class:`ServiceRestarting` (waiters re-attach) and reloads from the stored state.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from agentactors.actors.runtime import BridgeFuture, Later, handles
from agentactors.actors.store import History, State, StoreUnavailable
from agentactors.model import (
    BY_TIMEOUT,
    MAX_NAME,
    ConfigError,
    InvalidRequest,
    NotRunning,
    Page,
    PermissionRequest,
    Rule,
    ServiceCrashed,
    ServiceRestarting,
    SessionNotFound,
    ToolRef,
    check_metadata,
    check_patterns,
    check_text,
    new_id,
    now_ms,
    page_by_id,
)
from agentactors.policy import Config, Protected, derive, protected_of

from ._permission_core import Pending, check_id, decide, id_of, rule_decider
from ._permission_messages import (
    MAX_TIMEOUT,
    PERMISSION,
    AskPermission,
    EndAll,
    Expire,
    GetPermission,
    ListPending,
    WaitPermission,
)
from ._permission_policy import PolicyBoard, PolicyEvaluation
from ._permission_replies import Replies
from ._permission_sessions import SessionHandlers
from ._session_book import SessionBook

__all__ = ["PermissionActor", "PolicyBoard"]


class PermissionActor(PolicyEvaluation, Replies, SessionHandlers):
    """Owns the sessions, the pending requests and the saved approvals; decides, waits,
    cascades."""

    def __init__(
        self,
        *,
        config: Config,
        state: State,
        policies: PolicyBoard | None = None,
        protected: Protected | None = None,
    ) -> None:
        super().__init__()
        self._config = config
        self._protected = protected or Protected.of(config.sources)
        self._state = state
        self._board = policies or PolicyBoard()
        self._pending = {}
        self._approvals = {}
        self._sessions = SessionBook()
        self._evaluating = {}

    # --- life cycle -------------------------------------------------------------------

    def setup(self) -> None:
        self._state.attach(self)
        self._pending = {}
        self._evaluating = {}  # a reload forgets them (teardown failed their futures)
        self._sessions = SessionBook(self._state.sessions())
        self._approvals = {a.id: a for a in self._state.approvals()}
        for request in self._state.pending_requests():
            session = self._sessions.get(request.session_id)
            rules = self._restored_rules(request.directory)
            rules += session.permission if session else ()
            derived = derive(request.permission, request.patterns, {}, request.directory)
            derived = attrs.evolve(
                derived,
                opaque=bool(request.metadata.get("opaque")),
                protected=protected_of(request.metadata),
            )
            entry = Pending(request, BridgeFuture(), rules, derived)
            self._pending[request.id] = entry
            self._arm(entry)

    def _restored_rules(self, directory: str) -> tuple[Rule, ...]:
        """The config rules of a request pending since before this start.  If its
        project file no longer loads, a last deny-all rule keeps a saved approval from
        releasing it (a reply still can)."""
        try:
            return self._config.rules_for(directory)
        except ConfigError as exc:
            broken = Rule("*", "*", "deny", source=exc.message)
            return (*self._config.rules_without_project(), broken)

    def teardown(self) -> None:
        error: NotRunning = (
            ServiceRestarting(PERMISSION)
            if self.crash is not None or self.reloading
            else NotRunning(PERMISSION, "stopped")
        )
        for entry in self._pending.values():
            if entry.timer is not None:
                entry.timer.cancel()
            entry.future.try_set_exception(error)
        # Asks still with the policy plugins were never stored: their askers get an error
        # to retry on (re-attaching by id would find nothing).
        self._fail_evaluations(
            StoreUnavailable("the permission service reloaded its stored state")
            if self.reloading
            else ServiceCrashed(PERMISSION, self.crash)
            if self.crash is not None
            else NotRunning(PERMISSION, "stopped")
        )

    # --- asking -----------------------------------------------------------------------

    @handles(AskPermission)
    def _ask(self, message: AskPermission) -> PermissionRequest | Later[PermissionRequest]:
        """The request as asked; with ``message.wait``, Later: its final state."""
        check_text(message.permission, "permission", limit=MAX_NAME)
        check_id(message.session_id, "ses", "sessionID")
        session = self._sessions.get(message.session_id)
        if session is None:
            raise SessionNotFound(message.session_id)
        check_patterns(message.patterns, "patterns")
        check_patterns(message.always, "always")
        check_metadata(message.metadata, limit=self._config.max_metadata_bytes)
        _check_tool(message.tool)
        derived = derive(message.permission, message.patterns, message.metadata, session.directory)
        if not derived.checks:
            raise InvalidRequest(
                "patterns must be a non-empty list (or give metadata.command / metadata.path)",
                field="patterns",
            )
        derived = self._protected.mark(derived, session.directory)
        rules = self._config.rules_for(session.directory) + session.permission
        approvals = self._approvals_in_scope(session.id, session.directory)
        decision = decide(rules, approvals, derived)
        metadata = dict(message.metadata)
        if derived.opaque:
            metadata["opaque"] = True
            metadata["opaqueReasons"] = list(derived.reasons)
        if derived.protected:  # shown to the person asked: why no rule may allow it
            metadata["protected"] = list(derived.protected)
        timeout = self._timeout(message.timeout)
        created = now_ms()
        request = PermissionRequest(
            id=self._new_request_id(message.request_id),
            session_id=session.id,
            directory=session.directory,
            permission=message.permission,
            patterns=derived.patterns,
            metadata=metadata,
            always=message.always or derived.always,
            tool=message.tool,
            created=created,
            expires_at=None if timeout is None else created + int(timeout * 1000),
            effect=decision.effect,
            rule=decision.rule,
        )
        entry = Pending(request, BridgeFuture(), rules, derived)
        if decision.effect != "ask":
            reason = (
                decision.rule.describe() if decision.rule and decision.effect == "deny" else None
            )
            asked = self._decide_at_once(entry, decision.effect, rule_decider(decision), reason)
        elif self._board.names:
            answer = self._evaluate(entry)
            return Later(entry.future) if message.wait else answer
        else:
            asked = self._open(entry)
        return Later(entry.future) if message.wait else asked

    def _new_request_id(self, wanted: str | None) -> str:
        if wanted is None:
            return new_id("per")
        check_id(wanted, "per", "requestID")
        if wanted in self._pending or self._state.request(wanted) is not None:
            raise InvalidRequest(f"request id {wanted} is already in use", field="requestID")
        return wanted

    def _timeout(self, timeout: float | None) -> float | None:
        if timeout is None:
            return self._config.request_timeout
        if not (isinstance(timeout, int | float) and 0 < timeout <= MAX_TIMEOUT) or math.isnan(
            timeout
        ):
            raise InvalidRequest(
                f"timeout must be a number of seconds in (0, {MAX_TIMEOUT:g}]", field="timeout"
            )
        return float(timeout)

    # --- reading ----------------------------------------------------------------------

    @handles(GetPermission)
    def _get(self, message: GetPermission) -> PermissionRequest:
        return self._find(message.request_id, message.session_id)

    @handles(WaitPermission)
    def _wait(self, message: WaitPermission) -> PermissionRequest | Later[PermissionRequest]:
        request = self._find(message.request_id, message.session_id)
        entry = self._pending.get(request.id)
        return Later(entry.future) if entry else request

    @handles(ListPending)
    def _list(self, message: ListPending) -> Page[PermissionRequest]:
        rows = (
            e.request
            for e in self._pending.values()
            if (message.directory is None or e.request.directory == message.directory)
            and (message.session_id is None or e.request.session_id == message.session_id)
        )
        return page_by_id(rows, id_of, "pending", message.limit, message.cursor)

    @handles(History)
    def _history(self, message: History) -> Page[PermissionRequest] | Later[Any]:
        return self._state.query_history(message)  # durable: from the database

    # --- expiry and ends --------------------------------------------------------------

    @handles(Expire)
    def _expire(self, message: Expire) -> None:
        entry = self._pending.get(message.request_id)
        expires_at = entry.request.expires_at if entry else None
        if entry is None or expires_at is None:
            return
        if expires_at > now_ms():  # fired early (clock skew): re-arm
            self._arm(entry)
            return
        self._finish(entry.request.id, "expired", "reject", BY_TIMEOUT)

    @handles(EndAll)
    def _end_all(self, message: EndAll) -> int:
        ids = list(self._pending)
        for request_id in ids:
            self._finish(request_id, "aborted", "reject", message.decided_by)
        return len(ids)


def _check_tool(tool: object) -> None:
    if tool is None:
        return
    if not isinstance(tool, ToolRef):
        raise InvalidRequest("tool must be a tool reference (messageID, callID)", field="tool")
    check_text(tool.message_id, "tool.messageID", limit=MAX_NAME)
    check_text(tool.call_id, "tool.callID", limit=MAX_NAME)

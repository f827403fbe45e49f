"""The ``permission`` service: ask, reply, wait, expire, cascade (``design/flows.md``).

One actor owns every pending request.  Nothing here blocks: a waiter gets the request's
*decision future* (completed when the request ends) and awaits it in its own world (trio
task or thread); expiry comes as an :class:`Expire` message from the timer thread; events
leave with the actor's batch.  An ask the rules leave at ``ask`` is first shown to the
policy plugins (``Evaluate``; their ``Verdict`` or the ``PolicyDeadline`` decides), then
made pending.  Every end of a pending request — reply, cascade, expiry, abort,
shutdown — goes through :meth:`PermissionActor._finish`, which stores the final state,
completes the future and publishes ``permission.replied``, in that order.  It keeps a
read copy of the sessions, fed by ``sessions`` (``SessionChanged``, ``SessionsRemoved``).

Crash: the decision futures fail with :class:`ServiceRestarting`; waiters re-attach by
id (``WaitPermission``: ``api.wait_permission``) to the restarted incarnation, which
reloads pending requests, saved approvals and timers from its :class:`State` in
:meth:`PermissionActor.setup`.

Durable state (a journal, see ``store/_journal.py``): futures are completed through
:meth:`Service.complete_once_stored`, so "complete the future" means "once the change is stored"; a
failed commit makes the store send ``Reload``, which fails the decision futures with
:class:`ServiceRestarting` (waiters re-attach) and reloads from the stored state.
"""

from __future__ import annotations

import math
import time
from typing import Any

import attrs

from agentactors.actors.runtime import (
    BridgeFuture,
    Later,
    Service,
    TimerHandle,
    handles,
    post,
    tell,
    timers,
)
from agentactors.actors.store import History, State, StoreUnavailable
from agentactors.model import (
    BY_ASKER,
    BY_TIMEOUT,
    MAX_MESSAGE,
    MAX_NAME,
    REPLIES,
    SCOPES,
    Action,
    AlreadyDecided,
    ApprovalNotFound,
    ConfigError,
    Decider,
    InvalidRequest,
    NotRunning,
    Page,
    PermissionNotFound,
    PermissionRequest,
    ReplyKind,
    RequestState,
    Rule,
    SavedApproval,
    Scope,
    ServiceCrashed,
    ServiceRestarting,
    Session,
    SessionNotFound,
    ToolRef,
    check_metadata,
    check_patterns,
    check_text,
    is_id,
    new_id,
    now_ms,
    page_by_id,
    wire,
)
from agentactors.policy import (
    Config,
    Decision,
    Derived,
    Protected,
    decide_checks,
    derive,
    protected_of,
)

from ._permission_messages import (
    MAX_TIMEOUT,
    PERMISSION,
    AskPermission,
    EndAll,
    EndSessions,
    Evaluate,
    Expire,
    GetPermission,
    ListPending,
    ListSaved,
    PolicyDeadline,
    ReplyPermission,
    RevokeSaved,
    SessionChanged,
    SessionsRemoved,
    SetPolicies,
    Verdict,
    WaitPermission,
)
from .bus import publish


@attrs.define(eq=False)
class _Pending:
    request: PermissionRequest
    future: BridgeFuture[PermissionRequest]
    rules: tuple[Rule, ...]  # config + session rules at ask time, for cascade re-checks
    derived: Derived  # what the rules check, for cascade re-checks
    timer: TimerHandle | None = None


@attrs.define(eq=False)
class PolicyBoard:
    """Which plugins' policy hooks see each ask.  Outlives a crash of ``permission``
    (the supervisor restarts it with the same board), so registrations are not lost."""

    names: tuple[str, ...] = ()
    timeout: float = 5.0


@attrs.define(eq=False)
class _Evaluation:
    """A request the policy plugins are looking at, before anyone else sees it."""

    entry: _Pending
    answer: BridgeFuture[PermissionRequest]  # the request as asked, once they have spoken
    waiting: set[str]
    allowed_by: list[str] = attrs.Factory(list)
    timer: TimerHandle | None = None


def check_id(value: str, prefix: str, field: str) -> None:
    """Raise :class:`InvalidRequest` unless ``value`` is an id with ``prefix``."""
    if not is_id(value, prefix):
        raise InvalidRequest(
            f'Expected a {field} starting with "{prefix}_", got {value!r}', field=field
        )


def _check_tool(tool: object) -> None:
    if tool is None:
        return
    if not isinstance(tool, ToolRef):
        raise InvalidRequest("tool must be a tool reference (messageID, callID)", field="tool")
    check_text(tool.message_id, "tool.messageID", limit=MAX_NAME)
    check_text(tool.call_id, "tool.callID", limit=MAX_NAME)


class PermissionActor(Service):
    """Owns pending requests and saved approvals; decides, waits, cascades."""

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
        self._pending: dict[str, _Pending] = {}
        self._approvals: dict[str, SavedApproval] = {}
        self._sessions: dict[str, Session] = {}  # a read model fed by ``sessions``
        self._evaluating: dict[str, _Evaluation] = {}

    # --- life cycle -------------------------------------------------------------------

    def setup(self) -> None:
        self._state.attach(self)
        self._pending = {}
        self._evaluating = {}  # a reload forgets them (teardown failed their futures)
        self._sessions = {s.id: s for s in self._state.sessions()}
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
            entry = _Pending(request, BridgeFuture(), rules, derived)
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
        refusal: Exception = (
            StoreUnavailable("the permission service reloaded its stored state")
            if self.reloading
            else ServiceCrashed(PERMISSION, self.crash)
            if self.crash is not None
            else NotRunning(PERMISSION, "stopped")
        )
        for evaluation in self._evaluating.values():
            if evaluation.timer is not None:
                evaluation.timer.cancel()
            evaluation.answer.try_set_exception(refusal)
            evaluation.entry.future.try_set_exception(refusal)

    def _arm(self, entry: _Pending) -> None:
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
        decision = _decide(rules, approvals, derived)
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
        entry = _Pending(request, BridgeFuture(), rules, derived)
        if decision.effect != "ask":
            reason = (
                decision.rule.describe() if decision.rule and decision.effect == "deny" else None
            )
            asked = self._decide_at_once(entry, decision.effect, _rule_decider(decision), reason)
        elif self._board.names:
            answer = self._evaluate(entry)
            return Later(entry.future) if message.wait else answer
        else:
            asked = self._open(entry)
        return Later(entry.future) if message.wait else asked

    def _decide_at_once(
        self, entry: _Pending, effect: Action, by: Decider, reason: str | None
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

    def _open(self, entry: _Pending) -> PermissionRequest:
        """Make a request pending: stored, timed, then published for humans."""
        request = entry.request
        self._pending[request.id] = entry
        self._state.put_request(request)  # stored before it is published
        self.guard(entry.future)  # not stored: the asker is told (503), not left waiting
        self._arm(entry)
        publish("permission.asked", wire.asked(request), request.directory)
        return request

    # --- policy plugins -----------------------------------------------------------------

    @handles(SetPolicies)
    def _set_policies(self, message: SetPolicies) -> None:
        self._board.names = message.names
        self._board.timeout = message.timeout

    def _evaluate(self, entry: _Pending) -> Later[PermissionRequest]:
        """Show the request to every policy plugin first; answer when they have spoken."""
        request_id = entry.request.id
        evaluation = _Evaluation(entry, BridgeFuture(), set(self._board.names))
        self._evaluating[request_id] = evaluation
        for name in self._board.names:
            try:
                future = post(name, Evaluate(entry.request))
            except NotRunning:
                evaluation.waiting.discard(name)
                continue
            future.add_done_callback(_verdict_poster(request_id, name))
        evaluation.timer = timers.call_later(
            self._board.timeout, lambda: tell(PERMISSION, PolicyDeadline(request_id))
        )
        if not evaluation.waiting:
            self._conclude(request_id)
        return Later(evaluation.answer)

    @handles(Verdict)
    def _verdict(self, message: Verdict) -> None:
        evaluation = self._evaluating.get(message.request_id)
        if evaluation is None or message.plugin not in evaluation.waiting:
            return  # late (after the deadline) or unknown: decides nothing
        evaluation.waiting.discard(message.plugin)
        if message.effect == "deny":
            self._conclude(message.request_id, deny=(message.plugin, message.reason))
            return
        if message.effect == "allow" and not _never_allowed(evaluation.entry):
            evaluation.allowed_by.append(message.plugin)
        if not evaluation.waiting:
            self._conclude(message.request_id)

    @handles(PolicyDeadline)
    def _policy_deadline(self, message: PolicyDeadline) -> None:
        if message.request_id in self._evaluating:
            self._conclude(message.request_id)  # the silent ones decided nothing

    def _conclude(self, request_id: str, deny: tuple[str, str | None] | None = None) -> None:
        evaluation = self._evaluating.pop(request_id)
        if evaluation.timer is not None:
            evaluation.timer.cancel()
        entry = evaluation.entry
        if deny is not None:
            by = Decider("plugin", name=_plugin_name(deny[0]))
            asked = self._decide_at_once(entry, "deny", by, deny[1])
        elif evaluation.allowed_by:
            by = Decider("plugin", name=",".join(map(_plugin_name, evaluation.allowed_by)))
            asked = self._decide_at_once(entry, "allow", by, None)
        else:
            asked = self._open(entry)
        self.complete_once_stored(evaluation.answer, asked)

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

    def _approvals_in_scope(self, session_id: str, directory: str) -> list[SavedApproval]:
        return [
            a
            for a in self._approvals.values()
            if (a.scope == "session" and a.session_id == session_id)
            or (a.scope == "project" and a.directory == directory)
        ]

    @handles(SessionChanged)
    def _session_changed(self, message: SessionChanged) -> None:
        self._sessions[message.session.id] = message.session

    @handles(SessionsRemoved)
    def _sessions_removed(self, message: SessionsRemoved) -> None:
        for session_id in message.session_ids:
            self._sessions.pop(session_id, None)

    # --- reading ----------------------------------------------------------------------

    def _find(self, request_id: str, session_id: str | None) -> PermissionRequest:
        check_id(request_id, "per", "requestID")
        entry = self._pending.get(request_id)
        request = entry.request if entry else self._state.request(request_id)
        if request is None or (session_id is not None and request.session_id != session_id):
            raise PermissionNotFound(request_id)
        return request

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
        return page_by_id(rows, _id_of, "pending", message.limit, message.cursor)

    @handles(History)
    def _history(self, message: History) -> Page[PermissionRequest] | Later[Any]:
        return self._state.query_history(message)  # durable: from the database

    # --- replying ---------------------------------------------------------------------

    @handles(ReplyPermission)
    def _reply(self, message: ReplyPermission) -> PermissionRequest:
        if message.reply not in REPLIES:
            raise InvalidRequest(
                f"reply must be once, always or reject, not {message.reply!r}", field="reply"
            )
        if message.scope not in SCOPES:
            raise InvalidRequest("scope must be session or project", field="scope")
        if message.message is not None:
            check_text(message.message, "message", limit=MAX_MESSAGE, empty=True)
        request = self._find(message.request_id, message.session_id)
        if not request.pending:
            raise AlreadyDecided(request)
        reply: ReplyKind = message.reply
        final = self._finish(request.id, "replied", reply, message.decided_by, message.message)
        if reply == "always":
            self._save_always(request, message.scope, message.decided_by)
        elif reply == "reject" and self._config.reject_cascade and not _withdrawn(message):
            cascade = Decider("cascade", name=request.id)
            for other in self._session_pending(request.session_id):
                self._finish(other.id, "replied", "reject", cascade, message.message)
        return final

    def _session_pending(self, session_id: str) -> list[PermissionRequest]:
        return [e.request for e in self._pending.values() if e.request.session_id == session_id]

    def _save_always(self, request: PermissionRequest, scope: Scope, by: Decider) -> None:
        for pattern in request.always or request.patterns:
            approval = SavedApproval(
                id=new_id("apr"),
                permission=request.permission,
                pattern=pattern,
                scope=scope,
                session_id=request.session_id,
                directory=request.directory,
                created=now_ms(),
                saved_by=by,
                request_id=request.id,
            )
            self._approvals[approval.id] = approval
            self._state.put_approval(approval)
        # release the other pending requests this approval now lets through
        for entry in list(self._pending.values()):
            other = entry.request
            in_scope = (
                other.directory == request.directory
                if scope == "project"
                else other.session_id == request.session_id
            )
            if not in_scope:
                continue
            approvals = self._approvals_in_scope(other.session_id, other.directory)
            decision = _decide(entry.rules, approvals, entry.derived)
            if decision.effect == "allow":
                names = ",".join(a.id for a in decision.approvals) or None
                self._finish(other.id, "replied", "always", Decider("approval", name=names))

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

    @handles(EndSessions)
    def _end_sessions(self, message: EndSessions) -> int:
        ids = set(message.session_ids)
        ended = [e.request for e in self._pending.values() if e.request.session_id in ids]
        for request in ended:
            self._finish(request.id, "aborted", "reject", message.decided_by)
        return len(ended)

    @handles(EndAll)
    def _end_all(self, message: EndAll) -> int:
        ids = list(self._pending)
        for request_id in ids:
            self._finish(request_id, "aborted", "reject", message.decided_by)
        return len(ids)

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

    # --- saved approvals --------------------------------------------------------------

    @handles(ListSaved)
    def _list_saved(self, message: ListSaved) -> Page[SavedApproval]:
        if message.scope is not None and message.scope not in SCOPES:
            raise InvalidRequest("scope must be session or project", field="scope")
        rows = (
            a
            for a in self._approvals.values()
            if (message.scope is None or a.scope == message.scope)
            and (message.session_id is None or a.session_id == message.session_id)
            and (message.directory is None or a.directory == message.directory)
        )
        return page_by_id(rows, _id_of, "saved", message.limit, message.cursor)

    @handles(RevokeSaved)
    def _revoke(self, message: RevokeSaved) -> SavedApproval:
        check_id(message.approval_id, "apr", "approvalID")
        approval = self._approvals.pop(message.approval_id, None)
        if approval is None:
            raise ApprovalNotFound(message.approval_id)
        self._state.delete_approval(approval.id)
        publish("permission.saved.revoked", wire.approval(approval), approval.directory)
        return approval


def _verdict_poster(request_id: str, plugin: str) -> Any:
    """A done-callback turning a policy plugin's answer into a :class:`Verdict` message."""

    def on_done(future: BridgeFuture[Any]) -> None:
        try:
            answer = future.get(timeout=0)
        except Exception:  # noqa: BLE001 - a plugin that raised decides nothing
            answer = None
        effect, reason = _verdict_of(answer)
        tell(PERMISSION, Verdict(request_id, plugin, effect, reason))

    return on_done


def _verdict_of(answer: Any) -> tuple[str | None, str | None]:
    """``"allow"``, ``"deny"``, ``("deny", reason)`` or a Verdict-like object; else None."""
    if answer in ("allow", "deny"):
        return answer, None
    if isinstance(answer, tuple) and len(answer) == 2 and answer[0] in ("allow", "deny"):
        return answer[0], None if answer[1] is None else str(answer[1])
    effect = getattr(answer, "effect", None)
    if effect in ("allow", "deny"):
        reason = getattr(answer, "reason", None)
        return effect, None if reason is None else str(reason)
    return None, None


def _id_of(row: PermissionRequest | SavedApproval) -> str:
    return row.id


def _withdrawn(message: ReplyPermission) -> bool:
    """The asker took its own request back: it ends alone (no reject cascade)."""
    return message.decided_by.kind == BY_ASKER.kind


def _plugin_name(actor_name: str) -> str:
    return actor_name.removeprefix("plugin:")


def _never_allowed(entry: _Pending) -> bool:
    """Opaque or protected: no policy plugin may allow it (``_decide``, ``_protected``)."""
    return bool(entry.request.metadata.get("opaque")) or bool(entry.derived.protected)


def _decide(rules: tuple[Rule, ...], approvals: list[SavedApproval], derived: Derived) -> Decision:
    return decide_checks(
        rules, approvals, derived.checks, opaque=derived.opaque, protected=bool(derived.protected)
    )


def _rule_decider(decision: Any) -> Decider:
    if decision.approvals:
        return Decider("approval", name=",".join(a.id for a in decision.approvals))
    return Decider("rule", name=decision.rule.describe() if decision.rule else None)

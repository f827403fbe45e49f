"""Replies to a pending request and the saved approvals they make: ``always`` saves one
approval per pattern and releases the other pending requests it now lets through;
``reject`` ends the session's other pending requests too (the reject cascade, unless the
asker withdrew its own request); saved approvals are listed and revoked here.
"""

from __future__ import annotations

from agentactors.actors.runtime import handles
from agentactors.model import (
    BY_ASKER,
    MAX_MESSAGE,
    REPLIES,
    SCOPES,
    AlreadyDecided,
    ApprovalNotFound,
    Decider,
    InvalidRequest,
    Page,
    PermissionRequest,
    ReplyKind,
    SavedApproval,
    Scope,
    check_text,
    new_id,
    now_ms,
    page_by_id,
    wire,
)

from ._permission_core import PermissionCore, check_id, decide, id_of
from ._permission_messages import ListSaved, ReplyPermission, RevokeSaved
from .bus import publish


class Replies(PermissionCore):
    """The permission actor's handlers for replies and saved approvals."""

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
        for pattern in request.saves:
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
            decision = decide(entry.rules, approvals, entry.derived)
            if decision.effect == "allow":
                names = ",".join(a.id for a in decision.approvals) or None
                self._finish(other.id, "replied", "always", Decider("approval", name=names))

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
        return page_by_id(rows, id_of, "saved", message.limit, message.cursor)

    @handles(RevokeSaved)
    def _revoke(self, message: RevokeSaved) -> SavedApproval:
        check_id(message.approval_id, "apr", "approvalID")
        approval = self._approvals.pop(message.approval_id, None)
        if approval is None:
            raise ApprovalNotFound(message.approval_id)
        self._state.delete_approval(approval.id)
        publish("permission.saved.revoked", wire.approval(approval), approval.directory)
        return approval


def _withdrawn(message: ReplyPermission) -> bool:
    """The asker took its own request back: it ends alone (no reject cascade)."""
    return message.decided_by.kind == BY_ASKER.kind

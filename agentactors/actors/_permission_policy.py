"""The policy plugins' say on an ask: every registered plugin sees the request before
anyone else does; a ``deny`` decides at once, ``allow``s decide once all have spoken (or
the ``PolicyDeadline`` passes), silence decides nothing and the request becomes pending.
An opaque or protected request is never allowed by a plugin.
"""

from __future__ import annotations

from typing import Any

import attrs

from agentactors.actors.runtime import BridgeFuture, Later, TimerHandle, handles, post, tell, timers
from agentactors.model import Decider, NotRunning, PermissionRequest

from ._permission_core import Pending, PermissionCore
from ._permission_messages import PERMISSION, Evaluate, PolicyDeadline, SetPolicies, Verdict


@attrs.define(eq=False)
class PolicyBoard:
    """Which plugins' policy hooks see each ask.  Outlives a crash of ``permission``
    (the supervisor restarts it with the same board), so registrations are not lost."""

    names: tuple[str, ...] = ()
    timeout: float = 5.0


@attrs.define(eq=False)
class Evaluation:
    """A request the policy plugins are looking at, before anyone else sees it."""

    entry: Pending
    answer: BridgeFuture[PermissionRequest]  # the request as asked, once they have spoken
    waiting: set[str]
    allowed_by: list[str] = attrs.Factory(list)
    timer: TimerHandle | None = None


class PolicyEvaluation(PermissionCore):
    """The permission actor's handlers for the policy plugins."""

    _board: PolicyBoard
    _evaluating: dict[str, Evaluation]

    @handles(SetPolicies)
    def _set_policies(self, message: SetPolicies) -> None:
        self._board.names = message.names
        self._board.timeout = message.timeout

    def _evaluate(self, entry: Pending) -> Later[PermissionRequest]:
        """Show the request to every policy plugin first; answer when they have spoken."""
        request_id = entry.request.id
        evaluation = Evaluation(entry, BridgeFuture(), set(self._board.names))
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

    def _fail_evaluations(self, error: Exception) -> None:
        """Fail the asks still with the policy plugins (they were never stored)."""
        for evaluation in self._evaluating.values():
            if evaluation.timer is not None:
                evaluation.timer.cancel()
            evaluation.answer.try_set_exception(error)
            evaluation.entry.future.try_set_exception(error)


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


def _plugin_name(actor_name: str) -> str:
    return actor_name.removeprefix("plugin:")


def _never_allowed(entry: Pending) -> bool:
    """Opaque or protected: no policy plugin may allow it (as no rule may)."""
    return bool(entry.request.metadata.get("opaque")) or bool(entry.derived.protected)

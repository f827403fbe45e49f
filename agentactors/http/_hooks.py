"""An agent's hook call, asked and held: the flow behind ``POST /hook/<agent>``.

One agentactors session stands for each agent session: made on first sight (in the
hook's ``cwd``, titled after the agent and its session id), remembered here, and found
again by its title after a restart.  The tool call is asked with ``wait``; a pending
request lives for the hold (``[hooks] hold``), so a request nobody answers ends expired
when the hold runs out, and the agent is told to fall back to its own prompt (or, as
configured, denied).

An agent that sends both a before-every-call event (PreToolUse) and an about-to-prompt
event (PermissionRequest) for one call is asked once: the first event's verdict is kept
for :data:`RECALL` seconds, and the second event of the same call (same session, tool
and input) answers from it, so a person is never asked twice and a hold never runs
twice.  Trio thread only.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import trio

from agentactors.actors import api
from agentactors.integrations import Agent, Answer, Verdict, verdict_of
from agentactors.model import MAX_LIMIT, SessionNotFound
from agentactors.policy import Config

if TYPE_CHECKING:
    from ._context import Held

RECALL = 120.0  # seconds a before-every-call verdict answers the same call's prompt event
MAX_RECALLED = 4096
MAX_SESSIONS = 65536  # agent sessions remembered (others are found again by title)

_CallKey = tuple[str, str, str, str]


class Hooks:
    """The agent sessions seen and the recent verdicts (see the module doc)."""

    def __init__(self) -> None:
        self._sessions: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._recent: OrderedDict[_CallKey, tuple[Verdict, float]] = OrderedDict()
        self._first_sight = trio.Lock()  # agents call in parallel: one session each

    async def session_for(self, agent: Agent, agent_session: str, cwd: str) -> str:
        """Our session for the agent's (created on first sight; calls of a session not
        yet seen wait for each other, so only one is made)."""
        key = (agent.name, agent_session)
        known = self._sessions.get(key)
        if known is None:
            async with self._first_sight:
                known = self._sessions.get(key)
                if known is None:
                    title = agent.session_title(agent_session)
                    page = await api.list_sessions(cwd, limit=MAX_LIMIT)
                    found = next((s.id for s in page if s.title == title), None)
                    known = found or (await api.create_session(cwd, title=title)).id
                    self._sessions[key] = known
        self._sessions.move_to_end(key)
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return known

    def forget(self, agent: Agent, agent_session: str) -> None:
        self._sessions.pop((agent.name, agent_session), None)

    def remember(self, key: _CallKey, verdict: Verdict) -> None:
        self._recent[key] = (verdict, time.monotonic() + RECALL)
        self._recent.move_to_end(key)
        while len(self._recent) > MAX_RECALLED:
            self._recent.popitem(last=False)

    def recall(self, key: _CallKey) -> Verdict | None:
        """The verdict kept for ``key`` (taken: it answers once), if still fresh."""
        kept = self._recent.pop(key, None)
        return kept[0] if kept is not None and kept[1] > time.monotonic() else None


def _call_key(agent: Agent, body: dict[str, Any]) -> _CallKey:
    tool_input = json.dumps(body["tool_input"], sort_keys=True, ensure_ascii=False)
    return (agent.name, body["session_id"], body["tool_name"], tool_input)


async def answer_hook(
    agent: Agent, body: dict[str, Any], *, hooks: Hooks, config: Config, held: Held
) -> Answer:
    """The agent's answer to one hook call: ask, hold while pending, render.

    Raises: the ask's refusals (InvalidRequest), ShuttingDown (a 503) when the server
    stops while the call is held.
    """
    event = body["hook_event_name"]
    prompting = event in agent.prompts
    key = _call_key(agent, body)
    if prompting:
        earlier = hooks.recall(key)
        if earlier is not None:
            return agent.answer(event, earlier, body)
    ask = agent.request(body)
    hold = config.hook_hold
    if config.request_timeout is not None:
        hold = min(hold, config.request_timeout)
    final = None
    for _ in range(2):  # a second time if our session was deleted meanwhile
        session_id = await hooks.session_for(agent, body["session_id"], body["cwd"])
        try:
            final = await held.hold(
                api.ask_and_wait(
                    session_id, ask.kind, ask.patterns, metadata=ask.metadata, timeout=hold
                )
            )
            break
        except SessionNotFound:
            hooks.forget(agent, body["session_id"])
    if final is None:
        raise SessionNotFound(body["session_id"])
    if prompting:
        expired = config.hook_permission_request_expired
    else:
        expired = config.hook_pre_tool_use_expired
    verdict = verdict_of(final, hold=hold, expired_deny=expired == "deny")
    if agent.prompts and not prompting:
        hooks.remember(key, verdict)
    return agent.answer(event, verdict, body)

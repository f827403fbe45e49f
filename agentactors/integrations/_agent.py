"""An agent integration: its tool table, its hook events and how it is answered.

:class:`Agent` holds pure functions only; the server asks and waits
(``agentactors.http``), the ``hook`` command forwards the agent's JSON to the server and
prints the answer, and both use these to speak the agent's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._calls import Mapper, ToolAsk, translate
from ._verdict import Verdict

Answer = dict[str, Any]
"""The JSON an agent reads back from its hook; ``{}`` is "no decision"."""


@attrs.frozen
class Agent:
    """One agent.  ``prompts``: its hook events sent when it is about to show its own
    prompt (PermissionRequest; the others come before every call);
    ``answer(event, verdict, body)``; ``unreachable(event, reason, closed)`` answers when
    the server cannot be reached (``closed``: deny, else the agent's own prompt)."""

    name: str  # as on the command line and in /hook/<name>
    title: str  # as people call it; session titles name it
    events: tuple[str, ...]
    prompts: frozenset[str]
    tools: Mapping[str, Mapper]
    answer: Callable[[str, Verdict, Mapping[str, Any]], Answer]
    unreachable: Callable[[str, str, bool], Answer]

    def request(self, body: Mapping[str, Any]) -> ToolAsk:
        """Our request for a hook body (``tool_name``, ``tool_input``, ``cwd``, the rest
        as sent): the tool's translation plus who asks, in metadata."""
        tool_name, tool_input = str(body["tool_name"]), body.get("tool_input") or {}
        ask = translate(self.tools, tool_name, tool_input, str(body["cwd"]))
        who = {
            "agent": self.name,
            "hookEvent": body.get("hook_event_name"),
            "tool": tool_name,
            "agentSessionID": body.get("session_id"),
        }
        if isinstance(body.get("tool_use_id"), str):
            who["toolUseID"] = body["tool_use_id"]
        return attrs.evolve(ask, metadata={**who, **ask.metadata})

    def session_title(self, session_id: str) -> str:
        """The title of the agentactors session that stands for the agent's session."""
        return f"{self.title} session {session_id}"

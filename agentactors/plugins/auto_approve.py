"""``auto-approve``: allow matching requests server-side, without asking anyone.

The thing OpenCode users keep asking for: "stop asking me about ``git status`` in this
project, for the next hour, including for sub-agents".  Configure it in TOML::

    plugins = [["agentactors.plugins.auto_approve:AutoApprove", {
        rules = [{permission = "bash", pattern = "git *"}, {permission = "read"}],
        directories = ["/home/me/project"],   # or sessions = ["ses_..."]; none: everywhere
        include_children = true,               # sub-agent sessions of those sessions
        for_seconds = 3600,                    # time box from server start (or until = <unix s>)
    }]]

It is a policy plugin: it only sees requests the configured rules leave at ``ask`` (a
configured deny always wins), it never allows an opaque shell command, and every
approval it makes is recorded with ``decidedBy: {kind: plugin, name: auto-approve}``.
Its allow, like any plugin's, does not release a write to agentactors' own
configuration or code (``metadata.protected``): that one waits for a person.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from agentactors.model import PermissionRequest, SessionNotFound
from agentactors.policy import wildcard_match

from ._plugin import Plugin


class AutoApprove(Plugin):
    name = "auto-approve"

    def on_start(self) -> None:
        options = self.options
        self.rules = [_rule(r) for r in options.get("rules", [])]
        self.sessions = set(options.get("sessions", []))
        self.directories = set(options.get("directories", []))
        self.include_children = bool(options.get("include_children", True))
        until = options.get("until")
        if "for_seconds" in options:
            until = time.time() + float(options["for_seconds"])
        self.until = None if until is None else float(until)

    def check_permission(self, request: PermissionRequest) -> Any:
        if self.until is not None and time.time() >= self.until:
            return None
        if request.metadata.get("opaque") or not self._in_scope(request):
            return None
        if all(self._covered(request.permission, p) for p in request.patterns):
            return "allow"
        return None

    def _covered(self, permission: str, pattern: str) -> bool:
        return any(
            wildcard_match(rule_permission, permission) and wildcard_match(rule_pattern, pattern)
            for rule_permission, rule_pattern in self.rules
        )

    def _in_scope(self, request: PermissionRequest) -> bool:
        if not self.sessions and not self.directories:
            return True
        if request.directory in self.directories:
            return True
        session_id: str | None = request.session_id
        while session_id is not None:
            if session_id in self.sessions:
                return True
            if not self.include_children:
                return False
            try:
                session_id = self.client.get_session(session_id).parent_id
            except SessionNotFound:
                return False
        return False


def _rule(value: Mapping[str, Any]) -> tuple[str, str]:
    return str(value.get("permission", "*")), str(value.get("pattern", "*"))

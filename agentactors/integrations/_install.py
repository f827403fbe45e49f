"""``agentactors install AGENT``: the installers, by agent name.

An installer reads the agent's settings and returns a :class:`Plan` (the files it would
write and what to tell the person); the command line prints it (``--dry-run``) or writes
it.  Each agent's installer lives in its own module and is listed in :data:`INSTALLERS`
(``"module:function"``, imported when that agent is installed).
"""

from __future__ import annotations

import importlib
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import attrs

from ._settings_file import InstallError, Plan

DEFAULT_URL = "http://127.0.0.1:4096"


@attrs.frozen
class InstallOptions:
    """Where and how to connect an agent.

    ``scope``: the person's own settings (``home``) or the project's (``project``);
    ``transport``: an HTTP hook or a command hook; ``url``: the server;
    ``fail``: what a command hook answers when the server cannot be reached."""

    scope: Literal["user", "project"] = "user"
    transport: Literal["http", "command"] | None = None  # None: the agent's default
    url: str = DEFAULT_URL
    fail: Literal["open", "closed"] = "open"
    home: Path = attrs.field(factory=Path.home)
    project: Path = attrs.field(factory=Path.cwd)

    def hook_command(self, agent: str) -> str:
        """The command line that runs ``agentactors hook AGENT`` with this Python."""
        words = [sys.executable, "-m", "agentactors", "hook", agent]
        if self.url != DEFAULT_URL:
            words += ["--url", self.url]
        if self.fail == "closed":
            words += ["--fail", "closed"]
        return shlex.join(words)


Installer = Callable[[InstallOptions], Plan]

INSTALLERS: dict[str, str] = {
    "claude-code": "agentactors.integrations._install_agents:claude_code",
    "codex": "agentactors.integrations._install_agents:codex",
    "gemini": "agentactors.integrations._install_agents:gemini",
    "opencode": "agentactors.integrations.opencode:opencode",
}
"""Agent name -> ``"module:function"`` of its installer."""


def installer(agent: str) -> Installer:
    """The installer of ``agent``.  Raises InstallError for an agent with none."""
    spec = INSTALLERS.get(agent)
    if spec is None:
        raise InstallError(f"no installer for {agent!r} (known: {', '.join(INSTALLERS)})")
    module, _, name = spec.partition(":")
    found: Installer = getattr(importlib.import_module(module), name)
    return found

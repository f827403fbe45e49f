"""The agents people use, connected: Claude Code, Codex and Gemini CLI.

Pure translation (an agent's tool call as our kind, patterns and metadata; our decision
as the agent's hook answer, see ``design/integrations.md``) and the installers that
write each agent's hook configuration.  Imports only ``agentactors.model``; the server
(``agentactors.http``) asks and waits, the ``hook`` command forwards to it.
"""

from ._agent import Agent, Answer
from ._calls import ToolAsk, translate
from ._claude import CLAUDE
from ._codex import CODEX, patch_paths
from ._gemini import GEMINI
from ._install import DEFAULT_URL, INSTALLERS, InstallOptions, installer
from ._settings_file import Change, InstallError, Plan, write
from ._verdict import PRE_EXPIRED, REQUEST_EXPIRED, Verdict, verdict_of

AGENTS: dict[str, Agent] = {agent.name: agent for agent in (CLAUDE, CODEX, GEMINI)}
"""The agents with hooks, by name (``/hook/<name>``, ``agentactors hook <name>``)."""

__all__ = [
    "AGENTS",
    "CLAUDE",
    "CODEX",
    "DEFAULT_URL",
    "GEMINI",
    "INSTALLERS",
    "PRE_EXPIRED",
    "REQUEST_EXPIRED",
    "Agent",
    "Answer",
    "Change",
    "InstallError",
    "InstallOptions",
    "Plan",
    "ToolAsk",
    "Verdict",
    "installer",
    "patch_paths",
    "translate",
    "verdict_of",
    "write",
]

"""Gemini CLI: its tools as our kinds, and its BeforeTool answers.

Our deny is ``deny``; our allow is ``allow``, which does not skip Gemini's own dialog
(its policy engine still decides); after the hold, and when the server cannot be
reached, ``ask`` forces Gemini's dialog.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._agent import Agent, Answer
from ._calls import file, files, search, shell, text
from ._verdict import Verdict

BEFORE_TOOL = "BeforeTool"

TOOLS = {
    "run_shell_command": shell,
    "write_file": file("edit", "file_path", "absolute_path"),
    "replace": file("edit", "file_path", "absolute_path"),
    "edit": file("edit", "file_path", "absolute_path"),
    "read_file": file("read", "file_path", "absolute_path", "path"),
    "read_many_files": files("read", "paths"),
    "list_directory": search("read", "dir_path", "path"),
    "glob": search("read", "dir_path", "path"),
    "search_file_content": search("read", "dir_path", "path"),
    "grep_search": search("read", "dir_path", "path"),
    "web_fetch": text("webfetch", "prompt", urls=True),
    "google_web_search": text("websearch", "query"),
}


def answer(event: str, verdict: Verdict, body: Mapping[str, Any]) -> Answer:
    decision = {"allow": "allow", "deny": "deny", "fallback": "ask"}[verdict.outcome]
    return {"decision": decision, "reason": verdict.reason}


def unreachable(event: str, reason: str, closed: bool) -> Answer:
    return answer(event, Verdict("deny" if closed else "fallback", reason), {})


GEMINI = Agent(
    name="gemini",
    title="Gemini CLI",
    events=(BEFORE_TOOL,),
    prompts=frozenset(),
    tools=TOOLS,
    answer=answer,
    unreachable=unreachable,
)

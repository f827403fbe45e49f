"""An agent's tool call as our request: its kind, its patterns and its metadata.

Each agent has a table from its tool names to a *mapper*; a mapper reads the tool's
input and says what is asked.  Empty patterns mean "the server derives them": the shell
analyser reads ``metadata.command`` for ``bash``, and a file kind's ``metadata.path`` is
checked under every spelling (``agentactors.policy.derive``).  A tool no table names
becomes a kind named after the tool, never dropped and never allowed by default.  Pure
functions; they never raise for any input.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Callable, Mapping
from typing import Any

import attrs

MAX_SHOWN = 2000
"""Characters of one string of the tool's input kept in the request's metadata."""
MAX_INPUT_BYTES = 16 * 1024
"""Bytes of the tool's input (as JSON) kept in metadata; past it only the keys are kept."""
PRINCIPAL_KEYS = (
    "command",
    "file_path",
    "path",
    "url",
    "query",
    "pattern",
    "description",
    "prompt",
)
"""The keys whose value names what an unknown tool acts on (the first string is its
pattern)."""
_URL = re.compile(r"https?://[^\s<>\"'`)]+")


@attrs.frozen
class ToolAsk:
    """What an agent's tool call asks: ``patterns`` empty means the server derives them
    from ``metadata`` (``command`` for bash, ``path`` for the file kinds)."""

    kind: str
    patterns: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = attrs.field(factory=dict)


Mapper = Callable[[Mapping[str, Any], str], ToolAsk]
"""``(tool_input, cwd) -> ToolAsk``."""


def translate(
    table: Mapping[str, Mapper], tool_name: str, tool_input: Mapping[str, Any], cwd: str
) -> ToolAsk:
    """The request for one tool call of an agent whose tools ``table`` maps.  MCP tools
    (``mcp__<server>__<tool>``) become ``mcp`` with the pattern ``<server>:<tool>``; a
    tool the table does not name becomes a kind of its own name."""
    mapper = table.get(tool_name)
    if mapper is not None:
        ask = mapper(tool_input, cwd)
    elif tool_name.startswith("mcp__") and "__" in tool_name[5:]:
        server, _, tool = tool_name[5:].partition("__")
        ask = ToolAsk(
            "mcp", (_pattern(f"{server}:{tool}"),), {"mcpServer": server, "mcpTool": tool}
        )
    else:
        ask = unknown(tool_name, tool_input)
    return attrs.evolve(ask, metadata={"input": summary(tool_input), **ask.metadata})


# --- mappers ----------------------------------------------------------------------------


def shell(tool_input: Mapping[str, Any], cwd: str) -> ToolAsk:
    """``bash`` on ``command`` (a string, or an argv list: ``[sh, -lc, script]`` is the
    script, any other list is quoted back into one line)."""
    command = tool_input.get("command")
    if isinstance(command, list) and all(isinstance(word, str) for word in command):
        shells = ("bash", "sh", "zsh", "/bin/bash", "/bin/sh", "/bin/zsh", "/usr/bin/bash")
        if len(command) == 3 and command[0] in shells and command[1] in ("-c", "-lc"):
            command = command[2]
        else:
            command = shlex.join(command)
    if isinstance(command, str) and command.strip():
        return ToolAsk("bash", (), {"command": command})
    return ToolAsk("bash", ("*",))


def file(kind: str, *keys: str) -> Mapper:
    """``kind`` on the file the first of ``keys`` names (made absolute against cwd)."""

    def mapper(tool_input: Mapping[str, Any], cwd: str) -> ToolAsk:
        for key in keys:
            value = tool_input.get(key)
            if isinstance(value, str) and value and "\x00" not in value:
                return ToolAsk(kind, (), {"path": absolute(value, cwd)})
        return ToolAsk(kind, ("*",))

    return mapper


def search(kind: str, *keys: str) -> Mapper:
    """``kind`` on the directory a search looks in (the first of ``keys``, else cwd),
    the search's own pattern kept in metadata."""
    place = file(kind, *keys)

    def mapper(tool_input: Mapping[str, Any], cwd: str) -> ToolAsk:
        ask = place(tool_input, cwd)
        if not ask.metadata:
            ask = ToolAsk(kind, (), {"path": cwd})
        wanted = tool_input.get("pattern")
        extra = {"pattern": wanted} if isinstance(wanted, str) else {}
        return attrs.evolve(ask, metadata={**ask.metadata, **extra})

    return mapper


def files(kind: str, key: str) -> Mapper:
    """``kind`` on each path of a list (``read_many_files``), as absolute patterns."""

    def mapper(tool_input: Mapping[str, Any], cwd: str) -> ToolAsk:
        given = tool_input.get(key)
        paths = [p for p in given if isinstance(p, str) and p] if isinstance(given, list) else []
        if not paths:
            return ToolAsk(kind, ("*",))
        patterns = tuple(dict.fromkeys(_pattern(absolute(p, cwd)) for p in paths))
        return ToolAsk(kind, patterns, {"filePath": list(patterns)})

    return mapper


def text(kind: str, key: str, *, urls: bool = False) -> Mapper:
    """``kind`` with the string under ``key`` as its pattern (``urls``: the URLs in it,
    else the whole string)."""

    def mapper(tool_input: Mapping[str, Any], cwd: str) -> ToolAsk:
        value = tool_input.get(key)
        if not (isinstance(value, str) and value.strip()):
            return ToolAsk(kind, ("*",))
        found = _URL.findall(value) if urls else []
        patterns = tuple(dict.fromkeys(_pattern(u) for u in found)) or (_pattern(value),)
        return ToolAsk(kind, patterns, {key: value[:MAX_SHOWN]})

    return mapper


def unknown(tool_name: str, tool_input: Mapping[str, Any]) -> ToolAsk:
    """A kind named after the tool; its pattern is the first string under
    :data:`PRINCIPAL_KEYS`, else ``*``."""
    from agentactors.model import MAX_NAME  # noqa: PLC0415 - see _pattern

    kind = tool_name[:MAX_NAME] or "unknown"
    for key in PRINCIPAL_KEYS:
        value = tool_input.get(key)
        if isinstance(value, str) and value.strip():
            return ToolAsk(kind, (_pattern(value),))
    return ToolAsk(kind, ("*",))


# --- helpers ----------------------------------------------------------------------------


def absolute(path: str, cwd: str) -> str:
    """``path`` made absolute against ``cwd`` (``~`` is left for the server to refuse:
    the hook's user need not be the server's)."""
    return path if os.path.isabs(path) else os.path.join(cwd, path)


def _pattern(value: str) -> str:
    # the model (and what it loads) is the server's: the hook command that imports this
    # package for its answers, once per tool call, never translates
    from agentactors.model import MAX_PATTERN  # noqa: PLC0415

    return value[:MAX_PATTERN]


def summary(tool_input: Mapping[str, Any]) -> dict[str, Any]:
    """The tool's input for the person asked: strings cut at :data:`MAX_SHOWN`
    characters; past :data:`MAX_INPUT_BYTES` in all, only its keys."""
    shown = {str(k): _cut(v) for k, v in tool_input.items()}
    try:
        size = len(json.dumps(shown, ensure_ascii=False).encode("utf-8", "replace"))
    except (TypeError, ValueError):
        size = MAX_INPUT_BYTES + 1
    if size > MAX_INPUT_BYTES:
        return {"keys": [str(k)[:MAX_SHOWN] for k in list(tool_input)[:100]]}
    return shown


def _cut(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return value if len(value) <= MAX_SHOWN else f"{value[:MAX_SHOWN]}… ({len(value)} chars)"
    if depth >= 4:
        return "…"
    if isinstance(value, Mapping):
        return {str(k): _cut(v, depth + 1) for k, v in list(value.items())[:100]}
    if isinstance(value, list):
        return [_cut(v, depth + 1) for v in value[:100]]
    return value

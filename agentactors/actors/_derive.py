"""What a request asks, in the terms rules see: one *check* per thing to decide.

An explicit pattern is one check.  A ``bash`` request with ``metadata.command`` and no
patterns is parsed (:mod:`._shell`): each simple command is a check whose *allow view*
keeps unsafe ``VAR=`` prefixes and whose *deny view* strips every one; each file a
redirection writes is an ``edit`` check; anything unparseable makes the request opaque.
A file kind (``read``, ``edit``, ...) with ``metadata.path`` is checked under every
spelling of the path (absolute, symlinks resolved), plus ``external_directory`` when
any spelling is outside the session directory.  Pure functions; never raise for any
input (bad input is the caller's :class:`InvalidRequest`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._paths import PathCheck, is_outside, normalise_path

FILE_KINDS = frozenset({"read", "edit", "write", "list", "glob", "grep"})
EXTERNAL = "external_directory"


@attrs.frozen
class Check:
    permission: str
    allow_view: str  # what allow rules and saved approvals see
    deny_view: str  # what deny rules see


@attrs.frozen
class Derived:
    patterns: tuple[str, ...]  # shown to humans and stored
    checks: tuple[Check, ...]
    always: tuple[str, ...] = ()  # suggested "always" patterns
    opaque: bool = False
    reasons: tuple[str, ...] = ()


def derive(
    permission: str,
    patterns: Sequence[str],
    metadata: Mapping[str, Any],
    directory: str,
) -> Derived:
    """The checks of a request; ``patterns`` empty means derive them from metadata."""
    if patterns:
        return Derived(tuple(patterns), tuple(Check(permission, p, p) for p in patterns))
    command = metadata.get("command")
    if permission == "bash" and isinstance(command, str) and command.strip():
        return _bash(command, directory)
    path = metadata.get("path", metadata.get("filePath"))
    if isinstance(path, str) and path:
        checks = _path_checks(permission, normalise_path(path, directory), directory)
        return Derived(tuple(dict.fromkeys(c.allow_view for c in checks)), checks)
    return Derived((), ())


def _bash(command: str, directory: str) -> Derived:
    # The shell analyser (tree-sitter and its grammar, ~60 ms of imports) loads with the
    # first bash command, not at start-up: the start to first healthy answer has a goal.
    from ._shell import analyse_bash  # noqa: PLC0415

    analysis = analyse_bash(command)
    checks = [Check("bash", c.allow_text, c.deny_text) for c in analysis.commands]
    for target in analysis.writes:
        checks.extend(_path_checks("edit", normalise_path(target, directory), directory))
    patterns = tuple(dict.fromkeys(c.deny_text for c in analysis.commands)) or (command,)
    if not checks:  # nothing visible at all (e.g. only a function definition)
        checks.append(Check("bash", command, command))
    return Derived(patterns, tuple(checks), analysis.always, analysis.opaque, analysis.reasons)


def _path_checks(permission: str, path: PathCheck, directory: str) -> tuple[Check, ...]:
    checks = [Check(permission, spelling, spelling) for spelling in path.candidates]
    if is_outside(path, directory):
        checks.extend(Check(EXTERNAL, spelling, spelling) for spelling in path.candidates)
    return tuple(checks)

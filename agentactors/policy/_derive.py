"""What a request asks, in the terms rules see: one *check* per thing to decide.

An explicit pattern is one check.  A ``bash`` request with ``metadata.command`` and no
patterns is parsed (:mod:`.shell`): each simple command is a check whose *allow view*
keeps unsafe ``VAR=`` prefixes and whose *deny view* strips every one; each file a
redirection writes is an ``edit`` check; anything unparseable makes the request opaque.
A file kind (``read``, ``edit``, ...) with ``metadata.path`` is checked under every
spelling of the path (absolute, symlinks resolved), plus ``external_directory`` when
any spelling is outside the session directory.  A ``bash`` request also carries what
its command does (each command's words, the files it writes) for ``_protected``, with
or without patterns; any other request the file paths its metadata names
(:data:`PATH_KEYS`), with or without patterns.  Pure functions; never raise for any
input (bad input is the caller's :class:`InvalidRequest`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._paths import PathCheck, is_outside, normalise_path

if TYPE_CHECKING:
    from agentactors.policy.shell import BashAnalysis

FILE_KINDS = frozenset({"read", "edit", "write", "list", "glob", "grep"})
EXTERNAL = "external_directory"
PATH_KEYS = ("path", "filePath", "filepath", "file_path", "notebook_path", "notebookPath")
"""Metadata keys file tools name their file by (OpenCode's, Claude Code's)."""


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
    # what a bash command does, for ``_protected``: each command's words, the files it writes
    words: tuple[tuple[str, ...], ...] = ()
    writes: tuple[str, ...] = ()
    named: tuple[str, ...] = ()  # the file paths a non-bash request's metadata names
    protected: tuple[str, ...] = ()  # protected paths it writes (``_protected``)


def derive(
    permission: str,
    patterns: Sequence[str],
    metadata: Mapping[str, Any],
    directory: str,
) -> Derived:
    """The checks of a request; ``patterns`` empty means derive them from metadata.

    A ``bash`` request with patterns is still parsed (``metadata.command``, else each
    pattern) for what it writes, which ``_protected`` looks at; its checks are the
    patterns.
    """
    given = metadata.get("command")
    command = given if isinstance(given, str) and given.strip() else None
    if patterns:
        checks = tuple(Check(permission, p, p) for p in patterns)
        if permission.casefold() != "bash":  # "Bash" too is looked at for what it writes
            return Derived(tuple(patterns), checks, named=_named(metadata))
        runs = [command] if command is not None else list(patterns)
        return Derived(tuple(patterns), checks, **_effects([_analyse(run) for run in runs]))
    if permission == "bash" and command is not None:
        return _bash(command, directory)
    named = _named(metadata) if permission != "bash" else ()
    path = metadata.get("path", metadata.get("filePath"))
    if isinstance(path, str) and path:
        checks = _path_checks(permission, normalise_path(path, directory), directory)
        return Derived(tuple(dict.fromkeys(c.allow_view for c in checks)), checks, named=named)
    return Derived((), (), named=named)


def _named(metadata: Mapping[str, Any]) -> tuple[str, ...]:
    """The non-empty strings (or strings in a list) under :data:`PATH_KEYS`."""
    found: list[str] = []
    for key in PATH_KEYS:
        value = metadata.get(key)
        values = value if isinstance(value, list) else [value]
        found.extend(v for v in values if isinstance(v, str) and v)
    return tuple(dict.fromkeys(found))


def _analyse(command: str) -> BashAnalysis:
    # The shell analyser (tree-sitter and its grammar, slow to import) loads with the
    # first bash command, not at start-up: the start to first healthy answer has a goal.
    from agentactors.policy.shell import analyse_bash  # noqa: PLC0415

    return analyse_bash(command)


def _effects(analyses: Sequence[BashAnalysis]) -> dict[str, Any]:
    words = (command.words for analysis in analyses for command in analysis.commands)
    writes = (target for analysis in analyses for target in analysis.writes)
    return {"words": tuple(words), "writes": tuple(dict.fromkeys(writes))}


def _bash(command: str, directory: str) -> Derived:
    analysis = _analyse(command)
    checks = [Check("bash", c.allow_text, c.deny_text) for c in analysis.commands]
    for target in analysis.writes:
        checks.extend(_path_checks("edit", normalise_path(target, directory), directory))
    patterns = tuple(dict.fromkeys(c.deny_text for c in analysis.commands)) or (command,)
    if not checks:  # nothing visible at all (e.g. only a function definition)
        checks.append(Check("bash", command, command))
    return Derived(
        patterns,
        tuple(checks),
        analysis.always,
        analysis.opaque,
        analysis.reasons,
        **_effects([analysis]),
    )


def _path_checks(permission: str, path: PathCheck, directory: str) -> tuple[Check, ...]:
    checks = [Check(permission, spelling, spelling) for spelling in path.candidates]
    if is_outside(path, directory):
        checks.extend(Check(EXTERNAL, spelling, spelling) for spelling in path.candidates)
    return tuple(checks)

"""Shell commands seen the way permission rules must see them (design/shell-matching.md).

``analyse_bash(command)`` parses a bash command with tree-sitter-bash and returns every
simple command it runs — across separators, inside substitutions, subshells, groups,
loops and conditionals, inside literal ``sh -c``/``eval`` strings, and behind wrappers
(``timeout``, ``env``, ``xargs``, ``sudo``, ``find -exec``…) — each with the text allow
rules see and the text deny rules see, the files its redirections write, one "always"
pattern per command from the arity table, and whether anything could not be resolved to
literal words (``opaque``: such a command can never be allowed, only asked or denied).

The walk (``_walk``, ``_words``) is an allow-list of node types: anything it
does not model makes the result opaque.  Pure functions, thread-safe (one parser per
thread), never raising.  ``display_text`` sanitises text for the humans asked.
"""

from __future__ import annotations

import functools
import logging
from typing import Final

import attrs

from ._text import MAX_DISPLAY_CHARS, display_text
from ._walk import SAFE_ENV_VARS, Walker
from ._words import PLACEHOLDER, Out, SimpleCommand

__all__ = [
    "MAX_COMMAND_CHARS",
    "MAX_DISPLAY_CHARS",
    "MAX_PARSE_CHARS",
    "PLACEHOLDER",
    "SAFE_ENV_VARS",
    "BashAnalysis",
    "SimpleCommand",
    "analyse_bash",
    "display_text",
]

log = logging.getLogger(__name__)

MAX_COMMAND_CHARS: Final = 16_384  # longer commands are opaque (still parsed for deny rules)
MAX_PARSE_CHARS: Final = 262_144  # longer ones are not even parsed
_CACHED_CHARS: Final = 4_096


@attrs.frozen
class BashAnalysis:
    """Everything a permission check needs to know about one shell command line."""

    commands: tuple[SimpleCommand, ...]
    writes: tuple[str, ...]  # files written by redirections, tee, dd of=… (not /dev/null)
    always: tuple[str, ...]  # one "always" pattern per command; none when opaque
    opaque: bool  # something could not be resolved: never allow, only ask or deny
    reasons: tuple[str, ...]  # why it is opaque, for the human asked


def _analyse(command: str) -> BashAnalysis:
    out = Out()
    if len(command) > MAX_PARSE_CHARS:
        reason = f"longer than {MAX_PARSE_CHARS} characters: not analysed"
        return BashAnalysis((), (), (), True, (reason,))
    if len(command) > MAX_COMMAND_CHARS:
        out.reasons.append(f"longer than {MAX_COMMAND_CHARS} characters")
    if "\x00" in command:
        out.reasons.append("contains a NUL character")
    try:
        src = command.encode("utf-8")
    except UnicodeEncodeError:
        return BashAnalysis((), (), (), True, ("not valid text (lone surrogate)",))
    Walker(out, 0).run(src)
    opaque = bool(out.reasons)
    commands = tuple(dict.fromkeys(c for c, _ in out.commands))
    always = () if opaque else tuple(dict.fromkeys(a for _, a in out.commands if a))
    return BashAnalysis(
        commands,
        tuple(dict.fromkeys(out.writes)),
        always,
        opaque,
        tuple(dict.fromkeys(out.reasons)),
    )


_analyse_cached = functools.lru_cache(maxsize=2048)(_analyse)


def analyse_bash(command: str) -> BashAnalysis:
    """Analyse one bash command line for permission rules (see the module docstring).

    Never raises: anything that cannot be analysed, including an internal error, gives
    ``opaque=True`` with a reason.  Results of commands up to 4,096 characters are cached.
    """
    try:
        if len(command) <= _CACHED_CHARS:
            return _analyse_cached(command)
        return _analyse(command)
    except Exception:
        log.exception("shell analysis failed; treating the command as opaque")
        return BashAnalysis((), (), (), True, ("the command could not be analysed",))

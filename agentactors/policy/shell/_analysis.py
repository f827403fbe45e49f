"""Shell commands seen the way permission rules must see them (design/shell-matching.md).

``analyse_bash(command)`` parses a bash command with tree-sitter-bash and returns every
simple command it runs — across separators, inside substitutions, subshells, groups,
loops and conditionals, inside literal ``sh -c``/``eval`` strings, and behind wrappers
(``timeout``, ``env``, ``xargs``, ``sudo``, ``find -exec``…) — each with the text allow
rules see and the text deny rules see, the files its redirections write, one "always"
pattern per command from the arity table, and whether anything could not be resolved to
literal words (``opaque``: such a command can never be allowed, only asked or denied).

The walk (``_walk``, ``_words``) is an allow-list of node types: anything it
does not model makes the result opaque.  Its cost is bounded: a command too long, with
too many separators or too long a pipeline is not parsed, and a parse and walk over
their CPU time or nesting budget (``_budget``) are abandoned.  Such a command is opaque,
and deny rules still see what the plain split of ``_split`` finds in it.  Pure
functions, thread-safe (one parser per thread), never raising.  ``display_text``
sanitises text for the humans asked.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Final

import attrs

from ._budget import Refused
from ._split import split_commands
from ._text import MAX_DISPLAY_CHARS, display_text
from ._walk import SAFE_ENV_VARS, Walker
from ._words import PLACEHOLDER, Out, SimpleCommand

__all__ = [
    "MAX_COMMAND_CHARS",
    "MAX_CONTROLS",
    "MAX_DISPLAY_CHARS",
    "MAX_PARSE_CHARS",
    "MAX_PIPELINE",
    "PLACEHOLDER",
    "SAFE_ENV_VARS",
    "BashAnalysis",
    "SimpleCommand",
    "analyse_bash",
    "display_text",
]

log = logging.getLogger(__name__)

MAX_COMMAND_CHARS: Final = 16_384  # longer commands are only split (opaque)
MAX_CONTROLS: Final = 1_024  # more control operators than this: only split (opaque)
MAX_PIPELINE: Final = 128  # a longer pipeline: only split (tree-sitter is quadratic in it)
MAX_PARSE_CHARS: Final = 262_144  # longer ones are not even split
_CACHED_CHARS: Final = 4_096
_CONTROL = re.compile(r"&&|\|\||[;&|\n(`]")
_LIST_SEPARATOR = re.compile(r"&&|\|\||(?<![|<>])&(?!>)|[;\n]")  # not |& >& &>
_SPLIT_NOTE: Final = "; deny rules saw a plain split of it"


@attrs.frozen
class BashAnalysis:
    """Everything a permission check needs to know about one shell command line."""

    commands: tuple[SimpleCommand, ...]
    writes: tuple[str, ...]  # files written by redirections, tee, dd of=… (not /dev/null)
    always: tuple[str, ...]  # one "always" pattern per command; none when opaque
    opaque: bool  # something could not be resolved: never allow, only ask or deny
    reasons: tuple[str, ...]  # why it is opaque, for the human asked


def _refusal(command: str) -> str | None:
    """Why ``command`` is not parsed at all (None: it is)."""
    if len(command) > MAX_COMMAND_CHARS:
        return f"longer than {MAX_COMMAND_CHARS} characters"
    if len(_CONTROL.findall(command)) > MAX_CONTROLS:
        return f"more than {MAX_CONTROLS} control operators"
    if max(part.count("|") for part in _LIST_SEPARATOR.split(command)) > MAX_PIPELINE:
        return f"a pipeline longer than {MAX_PIPELINE} commands"
    try:
        command.encode("utf-8")
    except UnicodeEncodeError:
        return "not valid text (lone surrogate)"
    return None


def _analyse(command: str) -> BashAnalysis:
    if len(command) > MAX_PARSE_CHARS:
        reason = f"longer than {MAX_PARSE_CHARS} characters: not analysed"
        return BashAnalysis((), (), (), True, (reason,))
    out = Out()
    refused = _refusal(command)
    if refused is None:
        if "\x00" in command:
            out.reasons.append("contains a NUL character")
        try:
            Walker(out, 0).run(command.encode("utf-8"))
        except Refused as error:
            refused = str(error)
    if refused is not None:
        out.reasons.append(refused + _SPLIT_NOTE)
    if refused is not None or out.incomplete:
        split_commands(command, out)
    return _result(out)


def _result(out: Out) -> BashAnalysis:
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
    ``opaque=True`` with a reason, and deny rules still see the plain split's commands.
    Results of commands up to 4,096 characters are cached.
    """
    try:
        if len(command) <= _CACHED_CHARS:
            return _analyse_cached(command)
        return _analyse(command)
    except Exception as error:  # noqa: BLE001 (a defect: an opaque answer, never a crash)
        log.warning("shell analysis failed: %s; the command is opaque", _where(error))
        return _split_only(command, "the command could not be analysed")


def _split_only(command: str, reason: str) -> BashAnalysis:
    out = Out(reasons=[reason + _SPLIT_NOTE])
    try:
        split_commands(command[:MAX_PARSE_CHARS], out)
    except Exception as error:  # noqa: BLE001 (a defect: an opaque answer, never a crash)
        log.warning("splitting a shell command failed: %s", _where(error))
    return _result(out)


def _where(error: BaseException) -> str:
    """One line for the log: the error's type and the line raising it, not the command."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    if frame is None:
        return type(error).__name__
    code = frame.tb_frame.f_code
    return f"{type(error).__name__} at {code.co_filename}:{frame.tb_lineno} ({code.co_name})"

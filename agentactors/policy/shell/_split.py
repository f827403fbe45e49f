"""What deny rules see of a command the full analysis refused: a plain split, no parser.

``split_commands(command, out)`` is used when the command is too long, has too many
separators or too long a pipeline, nests too deeply or took too long to analyse
(``_analysis``).  Such a result is opaque anyway (never allowed), so the split only has
to show deny rules every command it can, in time linear in the command: it cuts at
every ``&& || ; | & ( ) `` `` and newline (so inside ``$(…)``, ``<(…)``, subshells and
backticks too), removes quotes and backslashes, decodes ``$'…'``, drops leading
``NAME=value`` words and reserved words (``if then do ! {``…), takes the command name
without its directory, and after a wrapper or shell (``sudo``, ``timeout``, ``xargs``,
``find``, ``sh``…) offers each following operand as a command too (``sudo -u x rm y``
gives ``rm y``; ``sh -c 'rm y'`` gives ``rm y``).  Redirections are taken off the words;
the files they write (and ``tee``'s, ``dd of=``) are collected as writes.  It ignores
quoting, so it sees more commands than bash runs (``echo "a; rm x"`` gives ``rm x``),
never fewer of those written plainly.  Never raises.
"""

from __future__ import annotations

import re
from typing import Final

from ._text import decode_ansi_c
from ._words import Out, SimpleCommand
from ._wrappers import RUNNERS, basename, is_quiet_target

__all__ = ["split_commands"]

_ANSI_C = re.compile(r"\$'((?:[^'\\]|\\.)*)'", re.DOTALL)
_UNQUOTE: Final = {ord('"'): None, ord("'"): None, ord("\\"): None}
# an optional descriptor, the operator (not a process substitution), maybe its target
_REDIRECT = re.compile(
    r"(?=[\d&<>])(?:(?<![^\s;&|()])\d+)?(&>>?|>&|>>|>\||>|<<<|<<-?|<&|<>|<)(?!\()"
    r"[ \t]*([^\s;&|()<>`]*)"
)
_WRITES: Final = frozenset({">", ">>", "&>", "&>>", ">|", ">&"})
_SEPARATOR = re.compile(r"&&|\|\||[;&|\n()`]")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")
_SKIPPED: Final = frozenset(
    {"!", "{", "}", "if", "then", "elif", "else", "fi", "do", "done", "while", "until"}
    | {"esac", "$", "<", ">"}
)
_MAX_OPERANDS: Final = 16  # commands offered after the wrappers of one command
# a segment with none of these is one plain command: its words as they are
_SPECIAL = re.compile(
    r"[/=]|(?<!\S)(?:"
    + "|".join(re.escape(w) for w in sorted(RUNNERS | _SKIPPED | {"tee", "dd"}))
    + r")(?!\S)"
)


def split_commands(command: str, out: Out) -> None:
    """Add to ``out`` every command (deny view) and written file the plain split finds."""
    text = _ANSI_C.sub(lambda m: decode_ansi_c(m.group(1)), command)
    text = text.replace("\\\n", "").translate(_UNQUOTE)
    if "<" in text or ">" in text:
        text = _REDIRECT.sub(lambda m: _redirect(m, out), text)
    commands = out.commands
    special = _SPECIAL.search
    for segment in dict.fromkeys(_SEPARATOR.split(text)):
        words = segment.split()
        if not words:
            continue
        if special(segment) is None:
            plain = " ".join(words)
            commands.append((SimpleCommand(tuple(words), plain, plain), None))
            continue
        start = 0
        for word in words:
            if word not in _SKIPPED and ("=" not in word or not _ASSIGNMENT.match(word)):
                break
            start += 1
        else:
            continue  # nothing but assignments and reserved words
        _emit(words, start, out)


def _redirect(match: re.Match[str], out: Out) -> str:
    operator, target = match.groups()
    if (
        operator in _WRITES
        and target
        and not (operator == ">&" and (target.isdigit() or target == "-"))
        and not is_quiet_target(target)
    ):
        out.writes.append(target)
    return " "


def _emit(words: list[str], start: int, out: Out) -> None:
    """The command at ``words[start]``; after a wrapper or shell, its operands too."""
    name = _command(words, start, out)
    if name == "tee":
        out.writes.extend(w for w in words[start + 1 :] if not w.startswith("-"))
    elif name == "dd":
        out.writes.extend(w[3:] for w in words[start + 1 :] if w.startswith("of="))
    runners = [i for i in range(start, len(words)) if _name(words[i]) in RUNNERS]
    if runners and runners[0] == start:
        _operands(words, start, out)
    if runners and runners[-1] != start:  # the last wrapper: `sudo … sudo -u x rm y`
        _operands(words, runners[-1], out)


def _operands(words: list[str], runner: int, out: Out) -> None:
    offered = 0
    for i in range(runner + 1, len(words)):
        word = words[i]
        if word.startswith("-") or ("=" in word and _ASSIGNMENT.match(word) is not None):
            continue
        _command(words, i, out)
        offered += 1
        if offered == _MAX_OPERANDS:
            return


def _name(word: str) -> str:
    return basename(word) if "/" in word else word


def _command(words: list[str], start: int, out: Out) -> str:
    """Add the command ``words[start:]``; its name without the directory."""
    allow_text = " ".join(words[start:])
    first = words[start]
    name = _name(first)
    deny_text = allow_text if name == first else name + allow_text[len(first) :]
    out.commands.append((SimpleCommand(tuple(words[start:]), allow_text, deny_text), None))
    return name

"""What a simple command runs: wrapper stripping for shell permission checks.

``describe(words)`` looks at one simple command's words and says what it really runs:
the wrapped command of ``timeout``/``nice``/``env``/``xargs``/``sudo``/``find -exec``…
(with the wrapper's own options skipped), shell code to parse (``sh -c``, ``eval``,
``su -c``, ``trap``, ``watch``), files it writes (``tee``, ``sudo -e``, ``dd of=``,
``time -o``, ``find -fprint``), or why it cannot be known (an option we do not know,
a shell reading standard input).  Options are parsed the way the tools' own getopt
does (short clusters, attached or separate values, ``--long=value``, ``--``, stopping
at the first operand); an option we do not know makes the command opaque rather than
a guess, because a wrong guess would pick the wrong word as the wrapped command.
"""

from __future__ import annotations

import os.path
import re
from collections.abc import Callable, Sequence
from typing import Final, TypeAlias

import attrs


@attrs.frozen
class Word:
    """One shell word after quote removal.

    ``text`` has expansions replaced by the placeholder; ``literal`` is False when it had
    any; ``pattern`` is True when unquoted glob or brace characters may expand it.
    """

    text: str
    literal: bool = True
    pattern: bool = False


@attrs.frozen
class Unwrap:
    """What one simple command runs (indexes are into its words)."""

    emit_self: bool = True  # the command itself is one of the commands
    inners: tuple[tuple[int, int], ...] = ()  # word ranges that are commands it runs
    env_words: tuple[int, ...] = ()  # NAME=VALUE words that are environment for the inner
    append_placeholder: bool = False  # the inner gets arguments we cannot see (xargs)
    prefix_from_inner: bool = False  # always pattern: wrapper words + the inner's prefix
    replace: str | None = None  # inner words containing this get the input (find {}, xargs -I)
    code: str | None = None  # literal shell code it runs (parse it)
    writes: tuple[Word, ...] = ()  # files it writes
    opaque: str | None = None  # why what it runs cannot be known


@attrs.frozen
class _Spec:
    flags: str = ""  # short options without a value
    values: str = ""  # short options with a value (attached or the next word)
    optional: str = ""  # short options whose value can only be attached
    long_flags: frozenset[str] = frozenset()
    long_values: frozenset[str] = frozenset()
    long_optional: frozenset[str] = frozenset()  # value only as --name=value
    numeric: bool = False  # "-5" is an option (nice)


class _UnknownOptionError(Exception):
    pass


_Handler: TypeAlias = Callable[[Sequence[Word]], "Unwrap"]


def _parse_long(
    words: Sequence[Word], i: int, spec: _Spec, seen: list[tuple[str, Word | None]]
) -> int:
    """Record the --long option at ``i``; the index after it (and its value)."""
    name, has_value, value = words[i].text[2:].partition("=")
    if name in spec.long_values:
        if has_value:
            seen.append((name, Word(value)))
        else:
            i += 1
            seen.append((name, words[i] if i < len(words) else None))
    elif name in spec.long_optional or (name in spec.long_flags and not has_value):
        seen.append((name, Word(value) if has_value else None))
    else:
        raise _UnknownOptionError(words[i].text)
    return i + 1


def _parse_short(
    words: Sequence[Word], i: int, spec: _Spec, seen: list[tuple[str, Word | None]]
) -> int:
    """Record the -abc cluster at ``i``; the index after it (and its value)."""
    text = words[i].text
    for j in range(1, len(text)):
        char = text[j]
        if char in spec.flags:
            seen.append((char, None))
        elif char in spec.values:
            if j + 1 < len(text):
                seen.append((char, Word(text[j + 1 :])))
            else:
                i += 1
                seen.append((char, words[i] if i < len(words) else None))
            break
        elif char in spec.optional:
            seen.append((char, Word(text[j + 1 :]) if j + 1 < len(text) else None))
            break
        else:
            raise _UnknownOptionError(text)
    return i + 1


def _parse(
    words: Sequence[Word], start: int, spec: _Spec
) -> tuple[int, list[tuple[str, Word | None]]]:
    """Skip options from ``start``; (index of the first operand, options seen)."""
    seen: list[tuple[str, Word | None]] = []
    i = start
    while i < len(words):
        word = words[i]
        text = word.text
        if not word.literal or not text.startswith("-") or text == "-":
            break
        if text == "--":
            return i + 1, seen
        if spec.numeric and re.fullmatch(r"--?[0-9]+", text):
            seen.append(("n", Word(text.lstrip("-"))))
            i += 1
        elif text.startswith("--"):
            i = _parse_long(words, i, spec, seen)
        else:
            i = _parse_short(words, i, spec, seen)
    return i, seen


_TIMEOUT = _Spec(
    flags="v",
    values="sk",
    long_flags=frozenset({"foreground", "preserve-status", "verbose"}),
    long_values=frozenset({"signal", "kill-after"}),
)
_NICE = _Spec(values="n", long_values=frozenset({"adjustment"}), numeric=True)
_NONE = _Spec()
_TIME = _Spec(
    flags="pvqa",
    values="fo",
    long_flags=frozenset({"portability", "verbose", "quiet", "append"}),
    long_values=frozenset({"format", "output"}),
)
_ENV = _Spec(
    flags="i0v",
    values="uCS",
    long_flags=frozenset({"ignore-environment", "null", "debug", "list-signal-handling"}),
    long_values=frozenset({"unset", "chdir", "split-string"}),
    long_optional=frozenset({"block-signal", "default-signal", "ignore-signal"}),
)
_COMMAND = _Spec(flags="pvV")
_EXEC = _Spec(flags="cl", values="a")
_XARGS = _Spec(
    flags="0rtpxo",
    values="adEILnPs",
    optional="eil",
    long_flags=frozenset(
        {"null", "no-run-if-empty", "verbose", "interactive", "exit", "open-tty", "show-limits"}
    ),
    long_values=frozenset(
        {"arg-file", "delimiter", "max-args", "max-procs", "max-chars", "process-slot-var"}
    ),
    long_optional=frozenset({"replace", "eof", "max-lines"}),
)
_SUDO = _Spec(
    flags="AbEeHKklnPSsiVv",
    values="CDgpRrTtUu",
    long_flags=frozenset(
        {"askpass", "background", "bell", "edit", "login", "list", "non-interactive"}
        | {"preserve-groups", "stdin", "shell", "set-home", "reset-timestamp"}
        | {"remove-timestamp", "validate", "version"}
    ),
    long_values=frozenset(
        {"close-from", "chdir", "group", "prompt", "chroot", "role", "type"}
        | {"command-timeout", "other-user", "user", "host"}
    ),
    long_optional=frozenset({"preserve-env"}),
)
_DOAS = _Spec(flags="Lns", values="Cu")
_STDBUF = _Spec(values="ioe", long_values=frozenset({"input", "output", "error"}))
_SETSID = _Spec(flags="cfw", long_flags=frozenset({"ctty", "fork", "wait"}))
_IONICE = _Spec(flags="t", values="cnpPu", long_values=frozenset({"class", "classdata"}))
_WATCH = _Spec(
    flags="bcegptwxr",
    values="nq",
    optional="d",
    long_flags=frozenset(
        {"beep", "color", "no-color", "errexit", "chgexit", "exec", "precise", "no-title"}
        | {"no-wrap", "no-linewrap", "no-rerun"}
    ),
    long_values=frozenset({"interval", "equexit"}),
    long_optional=frozenset({"differences"}),
)
_CHROOT = _Spec(long_flags=frozenset({"skip-chdir"}), long_values=frozenset({"userspec", "groups"}))
_TEE = _Spec(
    flags="aip",
    long_flags=frozenset({"append", "ignore-interrupts"}),
    long_optional=frozenset({"output-error"}),
)

# shells whose -c code is bash syntax (parsed) and shells whose code is not (opaque)
BASH_LIKE: Final[frozenset[str]] = frozenset({"sh", "bash", "dash", "ash", "ksh", "mksh"})
OTHER_SHELLS: Final[frozenset[str]] = frozenset({"zsh", "fish", "csh", "tcsh", "nu", "pwsh"})

# builtins that take variable names, where "a[$(cmd)]" is evaluated
_NAME_TAKING: Final[frozenset[str]] = frozenset(
    {"read", "printf", "unset", "mapfile", "readarray", "test", "[", "wait", "getopts"}
    | {"declare", "typeset", "local", "export", "readonly"}
)
_EVALUATED_SUBSCRIPT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\[[^\]]*[$`]")
_STDIN_PATHS: Final[frozenset[str]] = frozenset({"/dev/stdin", "/dev/fd/0", "/proc/self/fd/0", "-"})
_ENV_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_QUIET_WRITES: Final[frozenset[str]] = frozenset(
    {"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/fd/1", "/dev/fd/2", "/dev/tty"}
)


def is_quiet_target(target: str) -> bool:
    """Whether writing to ``target`` writes no file (``/dev/null``, stdout, stderr, tty)."""
    return target in _QUIET_WRITES


def basename(name: str) -> str:
    """The command name without its directory (``/usr/bin/env`` -> ``env``)."""
    return os.path.basename(name) or name


def describe(words: Sequence[Word]) -> Unwrap:
    """What the simple command ``words`` runs; ``words[0]`` is a literal command name.

    Never raises: an option we do not know gives ``Unwrap(opaque=...)``.
    """
    base = basename(words[0].text)
    handler = _HANDLERS.get(base)
    try:
        if handler is not None:
            return handler(words)
        if base in BASH_LIKE or base in OTHER_SHELLS:
            return _shell(words, base)
    except _UnknownOptionError as error:
        return Unwrap(opaque=f"{base}: option {error.args[0]!r} is not known to the checker")
    if base in _NAME_TAKING:
        for word in words[1:]:
            if _EVALUATED_SUBSCRIPT.match(word.text):
                return Unwrap(opaque=f"{base}: an array subscript with an expansion runs code")
            if base in ("mapfile", "readarray") and re.fullmatch(r"-[a-zA-Z]*C.*", word.text):
                return Unwrap(opaque=f"{base} -C: the callback is code")
    return Unwrap()


def _after(start: int, words: Sequence[Word], *, append_placeholder: bool = False) -> Unwrap:
    """The wrapper runs words[start:], or nothing (only its own behaviour) if empty."""
    if start >= len(words):
        return Unwrap()
    return Unwrap(
        emit_self=False, inners=((start, len(words)),), append_placeholder=append_placeholder
    )


def _timeout(words: Sequence[Word]) -> Unwrap:
    start, _ = _parse(words, 1, _TIMEOUT)
    return _after(start + 1, words)  # the duration, then the command


def _simple(spec: _Spec) -> _Handler:
    def handler(words: Sequence[Word]) -> Unwrap:
        start, _ = _parse(words, 1, spec)
        return _after(start, words)

    return handler


def _time(words: Sequence[Word]) -> Unwrap:
    start, seen = _parse(words, 1, _TIME)
    writes = tuple(value for name, value in seen if name in ("o", "output") and value)
    if start >= len(words):
        return Unwrap(writes=writes)
    return Unwrap(emit_self=False, inners=((start, len(words)),), writes=writes)


def _command(words: Sequence[Word]) -> Unwrap:
    start, seen = _parse(words, 1, _COMMAND)
    if any(name in ("v", "V") for name, _ in seen):
        return Unwrap()  # a lookup: runs nothing
    return _after(start, words)


def _env_words(words: Sequence[Word], start: int) -> int:
    while start < len(words) and _ENV_WORD.match(words[start].text):
        start += 1
    return start


def _env(words: Sequence[Word]) -> Unwrap:
    start, seen = _parse(words, 1, _ENV)
    if any(name in ("S", "split-string") for name, _ in seen):
        return Unwrap(opaque="env -S: a split string is not checked")
    if start < len(words) and words[start].text == "-":
        start += 1
    end = _env_words(words, start)
    if end >= len(words):
        return Unwrap()
    return Unwrap(emit_self=False, inners=((end, len(words)),), env_words=tuple(range(start, end)))


def _xargs(words: Sequence[Word]) -> Unwrap:
    start, seen = _parse(words, 1, _XARGS)
    replace = next(
        (
            value.text if value is not None and value.text else "{}"
            for name, value in seen
            if name in ("I", "i", "replace")
        ),
        None,
    )
    if start >= len(words):
        return Unwrap()
    if replace is not None and replace in words[start].text:
        return Unwrap(opaque="xargs: the command itself comes from the input")
    return Unwrap(
        emit_self=False,
        inners=((start, len(words)),),
        append_placeholder=replace is None,
        replace=replace,
    )


def _sudo(words: Sequence[Word]) -> Unwrap:
    start, seen = _parse(words, 1, _SUDO)
    names = {name for name, _ in seen}
    if names & {"e", "edit"}:
        return Unwrap(writes=tuple(words[start:]))
    if names & {"l", "list", "v", "validate", "V", "version"}:
        return Unwrap()  # lists or validates: runs nothing
    end = _env_words(words, start)
    if end >= len(words):
        if names & {"s", "i", "shell", "login"}:
            return Unwrap(opaque="sudo: starts an interactive shell")
        return Unwrap()
    return Unwrap(
        inners=((end, len(words)),), env_words=tuple(range(start, end)), prefix_from_inner=True
    )


def _doas(words: Sequence[Word]) -> Unwrap:
    start, seen = _parse(words, 1, _DOAS)
    if start >= len(words):
        if any(name == "s" for name, _ in seen):
            return Unwrap(opaque="doas: starts an interactive shell")
        return Unwrap()
    return Unwrap(inners=((start, len(words)),), prefix_from_inner=True)


def _su(words: Sequence[Word]) -> Unwrap:
    for i, word in enumerate(words[1:], start=1):
        text = word.text
        code: Word | None = None
        if text in ("-c", "--command", "--session-command"):
            code = words[i + 1] if i + 1 < len(words) else Word("")
        elif text.startswith(("--command=", "--session-command=")):
            code = Word(text.partition("=")[2], word.literal)
        elif re.fullmatch(r"-[lmpfP]*c.+", text):
            code = Word(text[text.index("c") + 1 :], word.literal)
        if code is not None:
            if not code.literal:
                return Unwrap(opaque="su -c: the command is not a literal string")
            return Unwrap(code=code.text)
    return Unwrap(opaque="su: starts a shell reading its commands from standard input")


def _shell(words: Sequence[Word], base: str) -> Unwrap:
    i = 1
    has_c = reads_stdin = False
    while i < len(words):
        word = words[i]
        text = word.text
        if not word.literal or text[:1] not in ("-", "+") or text in ("-", "+"):
            break
        i += 1
        if text == "--":
            break
        if text.startswith("--"):
            if text in ("--rcfile", "--init-file"):
                i += 1
            continue
        has_c = has_c or "c" in text[1:]
        reads_stdin = reads_stdin or "s" in text[1:] or "i" in text[1:]
        i += text[1:].count("o") + text[1:].count("O")  # -o OPTION, -O SHOPT
    if has_c:
        if base in OTHER_SHELLS:
            return Unwrap(opaque=f"{base} -c: not bash syntax, not checked")
        if i >= len(words) or not words[i].literal:
            return Unwrap(opaque=f"{base} -c: the command is not a literal string")
        return Unwrap(emit_self=False, code=words[i].text)
    if reads_stdin or i >= len(words):
        return Unwrap(opaque=f"{base}: reads its commands from standard input")
    return _script(words[i], base)


def _script(script: Word, base: str) -> Unwrap:
    """A script file run by a shell or ``source``: the command itself is what rules see."""
    if not script.literal or script.text in _STDIN_PATHS:
        return Unwrap(opaque=f"{base}: runs code from standard input or a substitution")
    return Unwrap()


def _source(words: Sequence[Word]) -> Unwrap:
    rest = words[2:] if len(words) > 1 and words[1].text == "--" else words[1:]
    return _script(rest[0], basename(words[0].text)) if rest else Unwrap()


def _chroot(words: Sequence[Word]) -> Unwrap:
    start, _ = _parse(words, 1, _CHROOT)
    if start + 1 >= len(words):
        return Unwrap(opaque="chroot: starts an interactive shell")
    return Unwrap(inners=((start + 1, len(words)),), prefix_from_inner=True)


def _eval(words: Sequence[Word]) -> Unwrap:
    rest = words[2:] if len(words) > 1 and words[1].text == "--" else words[1:]
    if not all(word.literal for word in rest):
        return Unwrap(opaque="eval: the code is not a literal string")
    return Unwrap(emit_self=False, code=" ".join(word.text for word in rest))


def _trap(words: Sequence[Word]) -> Unwrap:
    rest = list(words[1:])
    if rest and rest[0].text == "--":
        rest = rest[1:]
    if len(rest) < 2 or rest[0].text in ("-", "-p", "-l", "-P"):
        return Unwrap()
    if not rest[0].literal:
        return Unwrap(opaque="trap: the handler is not a literal string")
    return Unwrap(code=rest[0].text)


def _watch(words: Sequence[Word]) -> Unwrap:
    start, seen = _parse(words, 1, _WATCH)
    if any(name in ("x", "exec") for name, _ in seen):
        return _after(start, words)
    rest = words[start:]
    if not rest:
        return Unwrap()
    if not all(word.literal for word in rest):
        return Unwrap(opaque="watch: the command is not a literal string")
    return Unwrap(emit_self=False, code=" ".join(word.text for word in rest))


def _find(words: Sequence[Word]) -> Unwrap:
    inners: list[tuple[int, int]] = []
    writes: list[Word] = []
    i = 1
    while i < len(words):
        text = words[i].text
        if text in ("-exec", "-execdir", "-ok", "-okdir"):
            end = i + 1
            while end < len(words) and not (
                words[end].text == ";" or (words[end].text == "+" and words[end - 1].text == "{}")
            ):
                end += 1
            if end > i + 1:
                inners.append((i + 1, end))
            i = end + 1
            continue
        if text in ("-fprint", "-fprint0", "-fprintf", "-fls") and i + 1 < len(words):
            writes.append(words[i + 1])
        i += 1
    return Unwrap(inners=tuple(inners), writes=tuple(writes), replace="{}")


def _tee(words: Sequence[Word]) -> Unwrap:
    files: list[Word] = []
    options = True
    for word in words[1:]:
        if options and word.literal and word.text == "--":
            options = False
        elif options and word.literal and word.text.startswith("-") and word.text != "-":
            _parse([word], 0, _TEE)  # raises on an unknown option
        else:
            files.append(word)
    return Unwrap(writes=tuple(files))


def _dd(words: Sequence[Word]) -> Unwrap:
    return Unwrap(
        writes=tuple(Word(w.text[3:], w.literal) for w in words[1:] if w.text.startswith("of="))
    )


def _let(words: Sequence[Word]) -> Unwrap:
    return Unwrap(opaque="let: arithmetic on variables can run code")


def _ionice(words: Sequence[Word]) -> Unwrap:
    start, seen = _parse(words, 1, _IONICE)
    if any(name in ("p", "P", "u") for name, _ in seen):
        return Unwrap()  # acts on running processes
    return _after(start, words)


_HANDLERS: Final[dict[str, _Handler]] = {
    "timeout": _timeout,
    "nice": _simple(_NICE),
    "nohup": _simple(_NONE),
    "builtin": _simple(_NONE),
    "coproc": _simple(_NONE),
    "busybox": _simple(_NONE),
    "exec": _simple(_EXEC),
    "stdbuf": _simple(_STDBUF),
    "setsid": _simple(_SETSID),
    "time": _time,
    "command": _command,
    "env": _env,
    "xargs": _xargs,
    "sudo": _sudo,
    "sudoedit": lambda words: Unwrap(writes=tuple(words[1:])),
    "doas": _doas,
    "su": _su,
    "eval": _eval,
    "trap": _trap,
    "watch": _watch,
    "find": _find,
    "source": _source,
    ".": _source,
    "chroot": _chroot,
    "tee": _tee,
    "dd": _dd,
    "let": _let,
    "ionice": _ionice,
}

# commands that run a command or code given in their words: the plain split of ``_split``
# offers each operand after one as a command
RUNNERS: Final[frozenset[str]] = (
    frozenset(_HANDLERS) - {"sudoedit", "source", ".", "tee", "dd", "let"}
) | (BASH_LIKE | OTHER_SHELLS)

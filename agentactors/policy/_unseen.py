"""Shell commands that write files their words do not name, for ``_protected``.

``unseen(words)`` looks at one simple command (its words after wrapper stripping) and
says what it may write that no word spells:

- *trees*: the directories it writes a tree of files into, whose names come from an
  archive, a patch, another tree, a repository or a server: ``tar x``/``unzip``/``7z
  x``/``cpio -i``/``ar x``/``unrar x`` (``-C``/``-d``/``-o`` or the working
  directory), ``cp``/``scp`` with ``-r``/``-a`` and ``ditto`` (the destination),
  ``rsync`` (its local destination), ``patch`` (``-d`` or the working directory),
  ``wget -r``/``--content-disposition`` and ``curl -J`` (the server names the file).
  The working directory is ``"."``.
- *anywhere*: what may write any file, anywhere: inline code an interpreter runs, which
  may build any file name (``python -c``, ``node -e``, ``perl -e``, ``ruby -e``, ``php
  -r``, an interpreter reading its program from standard input, an ``awk`` program with
  an output redirection, a pipe or ``system``); ``git`` sub-commands that write a work
  tree (``apply``, ``checkout``, ``reset``, ``pull``…), whose root may be any directory
  above the one it runs in.

Shell code (``sh -c``, ``eval``) is not here: the analyser parses it, or makes the
command opaque.  Scripts run by file (``python script``), modules (``python -m``), build
tools and package managers are not seen at all (``design/shell-matching.md``, known
limits).  Pure; never raises.
"""

from __future__ import annotations

import functools
import os.path
import re
from collections.abc import Callable, Sequence
from typing import Final

import attrs


@attrs.frozen
class Unseen:
    """What one command may write without naming it."""

    trees: tuple[str, ...] = ()  # directories a tree is written into, as given
    anywhere: str | None = None  # what it runs that may write anywhere, for the human


NOTHING: Final = Unseen()

_Handler = Callable[[Sequence[str]], Unseen]


def unseen(words: Sequence[str]) -> Unseen:
    """What the command ``words`` may write that none of its words names."""
    if not words:
        return NOTHING
    handler = _handler(os.path.basename(words[0]).casefold())
    return NOTHING if handler is None else handler(words[1:])


@functools.lru_cache(maxsize=1024)
def _handler(name: str) -> _Handler | None:
    """The handler of a command name (casefolded), or None."""
    handler = _HANDLERS.get(name)
    if handler is not None:
        return handler
    for pattern, flags, values in _INTERPRETERS:
        if pattern.fullmatch(name):
            return functools.partial(_interpreter, name, flags, values)
    return None


def _options(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """(options, operands): words before a ``--`` that start with ``-`` (not ``-``
    alone), and the rest."""
    options: list[str] = []
    operands: list[str] = []
    ended = False
    for arg in args:
        if ended or arg == "-" or not arg.startswith("-"):
            operands.append(arg)
        elif arg == "--":
            ended = True
        else:
            options.append(arg)
    return options, operands


def _value(args: Sequence[str], short: str, long: str) -> list[str]:
    """Every value of ``-X v``, ``-Xv``, ``--long v`` and ``--long=v`` in ``args``."""
    found: list[str] = []
    for index, arg in enumerate(args):
        following = args[index + 1] if index + 1 < len(args) else None
        if long and arg.startswith(long + "="):
            found.append(arg[len(long) + 1 :])
        elif arg in (short, long) and following is not None:
            found.append(following)
        elif short and arg.startswith(short) and len(arg) > len(short):
            found.append(arg[len(short) :])
    return found


def _cluster_has(args: Sequence[str], letters: str, before: str = "") -> bool:
    """Whether a short-option cluster (``-xzf``) holds one of ``letters`` before any
    of ``before`` (options whose value is the rest of the cluster)."""
    for arg in args:
        if arg.startswith("-") and not arg.startswith("--"):
            for char in arg[1:]:
                if char in letters:
                    return True
                if char in before:
                    break
    return False


def _tar(args: Sequence[str]) -> Unseen:
    extract = any(a in ("--extract", "--get") for a in args)
    extract = extract or _cluster_has(args, "x", before="fCbTXKNVgFLHI")
    if args and not args[0].startswith("-"):  # the old style: "tar xf file"
        extract = extract or "x" in args[0]
    if not extract:
        return NOTHING
    return Unseen(tuple(_value(args, "-C", "--directory")) or (".",))


def _unzip(args: Sequence[str]) -> Unseen:
    options = [a for a in args if a.startswith("-") and not a.startswith("-d")]
    if _cluster_has(options, "lvtzZpc"):  # lists, tests or writes to standard output
        return NOTHING
    return Unseen(tuple(_value(args, "-d", "")) or (".",))


def _seven_zip(args: Sequence[str]) -> Unseen:
    if not args or args[0] not in ("x", "e"):
        return NOTHING
    return Unseen(tuple(a[2:] for a in args if a.startswith("-o")) or (".",))


def _first_has(letters: str) -> _Handler:
    """Archivers whose first word holds the mode letters (``ar x``, ``unrar x``, ``jar
    xf``): extraction into the working directory (and a destination ending in ``/``)."""

    def handler(args: Sequence[str]) -> Unseen:
        if not args or not any(char in letters for char in args[0].lstrip("-")):
            return NOTHING
        return Unseen((".", *(a for a in args[1:] if a.endswith("/"))))

    return handler


def _cpio(args: Sequence[str]) -> Unseen:
    if "--extract" not in args and not _cluster_has(args, "i", before="DEFHIMORs"):
        return NOTHING
    return Unseen(tuple(_value(args, "-D", "--directory")) or (".",))


def _copy(recursive: str, values: str, always: bool = False) -> _Handler:
    """``cp``-like: with a ``recursive`` option letter (or ``always``), the destination
    directory: ``-t``/``--target-directory``, else the last operand (a local one).
    ``values``: its short options that take a value."""

    def handler(args: Sequence[str]) -> Unseen:
        found = always or any(a in ("--recursive", "--archive") for a in args)
        if not (found or _cluster_has(args, recursive, before=values)):
            return NOTHING
        target = _value(args, "-t", "--target-directory")
        if target:
            return Unseen(tuple(target))
        operands = _operands(args, values)
        return Unseen(_local(operands[-1:]) if len(operands) >= 2 else ())

    return handler


def _operands(args: Sequence[str], values: str) -> list[str]:
    """The operands, skipping the word after an option ``-X`` whose ``X`` is in
    ``values`` (its value, given separately)."""
    operands: list[str] = []
    skip = ended = False
    for arg in args:
        if skip:
            skip = False
        elif ended or arg == "-" or not arg.startswith("-"):
            operands.append(arg)
        elif arg == "--":
            ended = True
        elif len(arg) == 2 and arg[1] in values:
            skip = True
    return operands


_RSYNC_VALUES: Final = frozenset(
    {
        "-e", "--rsh", "-f", "--filter", "--exclude", "--include", "--exclude-from",
        "--include-from", "--files-from", "-T", "--temp-dir", "--compare-dest", "--copy-dest",
        "--link-dest", "-B", "--block-size", "--backup-dir", "--suffix", "--chmod", "--chown",
        "--log-file", "--password-file", "--partial-dir", "--timeout", "--bwlimit",
        "--max-size", "--min-size", "--port", "-M", "--remote-option", "--out-format",
        "--usermap", "--groupmap", "--info", "--debug", "--iconv", "--skip-compress",
        "--sockopts", "--contimeout", "--max-delete", "--write-batch", "--read-batch",
        "--only-write-batch", "--protocol",
    }
)  # fmt: skip
"""rsync's options whose value is the next word."""


def _rsync(args: Sequence[str]) -> Unseen:
    operands: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _RSYNC_VALUES:
            skip = True
        elif arg == "-" or not arg.startswith("-"):
            operands.append(arg)
    return Unseen(_local(operands[-1:]) if len(operands) >= 2 else ())


def _local(paths: Sequence[str]) -> tuple[str, ...]:
    """The paths that are local (``host:path`` and ``rsync://`` are not)."""
    return tuple(p for p in paths if ":" not in p.partition("/")[0] and "://" not in p)


def _patch(args: Sequence[str]) -> Unseen:
    return Unseen(tuple(_value(args, "-d", "--directory")) or (".",))


_GIT_WRITES: Final = frozenset(
    {
        "apply", "am", "checkout", "switch", "restore", "reset", "merge", "pull", "rebase",
        "cherry-pick", "revert", "clone", "read-tree", "checkout-index", "sparse-checkout",
        "stash", "worktree", "submodule", "bisect",
    }
)  # fmt: skip
"""Sub-commands that may write the work tree from content no word shows."""
_GIT_READS: Final = {
    "stash": {"list", "show"},
    "worktree": {"list"},
    "bisect": {"log", "view"},
    "submodule": {"status", "summary"},
}
_GIT_VALUES: Final = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"})


def _git(args: Sequence[str]) -> Unseen:
    index = 0
    while index < len(args) and args[index].startswith("-"):
        index += 2 if args[index] in _GIT_VALUES else 1
    if index >= len(args) or args[index] not in _GIT_WRITES:
        return NOTHING
    command, rest = args[index], args[index + 1 :]
    if rest and rest[0] in _GIT_READS.get(command, ()):
        return NOTHING
    return Unseen(anywhere=f"git {command}: the work tree")


_AWK_WRITES: Final = re.compile(r"[>|@]|system")
"""What an awk program needs to write a file or run a command: an output redirection
or pipe, ``system()``, a gawk ``@load``/``@include``."""


def _awk(args: Sequence[str]) -> Unseen:
    """An awk program that may write: one with an output redirection, a pipe,
    ``system`` or ``@``, or a gawk option that loads code (``-i``, ``-l``, ``-E``); its
    program is the first operand unless ``-f`` names a file (not seen here)."""
    if any(a.startswith(("-i", "-l", "-E", "--include", "--load", "--exec")) for a in args):
        return Unseen(anywhere="awk: loads code")
    programs = _value(args, "-e", "--source")
    operands = _operands(args, "vFfeilE")
    if not any(a.startswith(("-f", "--file")) for a in args):
        programs += operands[:1]
    if any(_AWK_WRITES.search(program) for program in programs):
        return Unseen(anywhere="awk: a program that may write")
    return NOTHING


def _wget(args: Sequence[str]) -> Unseen:
    by_server = {"--recursive", "--mirror", "--content-disposition", "--trust-server-names"}
    if not by_server.intersection(args) and not _cluster_has(args, "rm", "OoaPeiBtTwQUlDAR"):
        return NOTHING
    return Unseen(tuple(_value(args, "-P", "--directory-prefix")) or (".",))


def _curl(args: Sequence[str]) -> Unseen:
    values = "odHuXeAbcCEFKrTwxyYzm"
    if "--remote-header-name" not in args and not _cluster_has(args, "J", before=values):
        return NOTHING
    return Unseen(tuple(_value(args, "", "--output-dir")) or (".",))


_HANDLERS: Final[dict[str, _Handler]] = {
    "tar": _tar,
    "gtar": _tar,
    "bsdtar": _tar,
    "unzip": _unzip,
    "7z": _seven_zip,
    "7za": _seven_zip,
    "7zr": _seven_zip,
    "7zz": _seven_zip,
    "ar": _first_has("x"),
    "jar": _first_has("x"),
    "unrar": _first_has("xe"),
    "rar": _first_has("xe"),
    "cpio": _cpio,
    "cp": _copy("rRa", "tS"),
    "gcp": _copy("rRa", "tS"),
    "scp": _copy("r", "PiocFlSJ"),
    "ditto": _copy("", "", always=True),
    "rsync": _rsync,
    "patch": _patch,
    "git": _git,
    "wget": _wget,
    "awk": _awk,
    "gawk": _awk,
    "mawk": _awk,
    "nawk": _awk,
    "curl": _curl,
}

_INTERPRETERS: Final = (
    (re.compile(r"(python|pypy)[0-9.]*"), "c", "WXQm"),
    (re.compile(r"node|nodejs|bun"), "ep", "r"),
    (re.compile(r"deno"), "", ""),
    (re.compile(r"perl[0-9.]*"), "eE", "IMmlx0Cdi"),
    (re.compile(r"ruby[0-9.]*|jruby"), "e", "IrCEFWTxK0"),
    (re.compile(r"php[0-9.]*"), "rRBE", "cdfzt"),
    (re.compile(r"lua[0-9.]*|luajit"), "e", "l"),
    (re.compile(r"rscript|r|julia|racket|elixir|osascript"), "e", ""),
    (re.compile(r"guile|tclsh[0-9.]*"), "c", ""),
)
"""Interpreters by name (casefolded): the short options that give inline code, and
those that take a value (the rest of a cluster is that value)."""
_INFO: Final = frozenset({"-V", "-v", "--version", "-h", "--help", "-VV"})
_LONG_CODE: Final = frozenset({"--eval", "--print", "--command"})


def _interpreter(name: str, flags: str, values: str, args: Sequence[str]) -> Unseen:
    """Inline code, or a program read from standard input (no operand, or ``-``).

    ``deno eval`` runs its argument.  A script or module operand runs a file (not seen
    here).
    """
    options, operands = _options(args)
    if name == "deno":
        inline = operands[:1] == ["eval"]
    else:
        inline = (bool(flags) and _cluster_has(options, flags, values)) or bool(
            _LONG_CODE.intersection(options)
        )
    if inline:
        return Unseen(anywhere=f"{name}: inline code")
    module = any(a.startswith("-m") for a in options)  # python -m: a module, by file
    script = bool(operands) and operands[0] != "-"
    if module or script or (options and set(options) <= _INFO) or name == "deno":
        return NOTHING
    return Unseen(anywhere=f"{name}: a program read from standard input")

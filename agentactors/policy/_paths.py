"""Path spellings for file permission rules (``read``, ``edit``, ``external_directory``).

A path reaches rules in every spelling that names the same file: made absolute against
the session directory, ``~`` expanded, ``..`` folded (``absolute``), and with symlinks
resolved the way the kernel would (``resolved``).  Rules must match every candidate —
a deny on ``/etc/*`` must catch ``link-to-etc/passwd`` and ``../../etc/passwd`` — and a
path is outside a directory when any spelling is outside it.
"""

from __future__ import annotations

import os
import os.path

import attrs


@attrs.frozen
class PathCheck:
    """Every spelling of one path a permission rule has to see."""

    raw: str  # as requested
    absolute: str  # ~ expanded, made absolute against the working directory, .. folded
    resolved: str  # symlinks resolved (os.path.realpath), .. applied after resolving
    candidates: tuple[str, ...]  # all distinct spellings rules must check, absolute first
    error: str | None = None  # why resolving failed (then treat the path as outside)


def _fold(path: str) -> str:
    """``os.path.normpath`` on an absolute path, without POSIX's kept leading ``//``."""
    folded = os.path.normpath(path)
    if folded.startswith("//"):
        folded = "/" + folded.lstrip("/")
    return folded


def _expand_tilde(path: str, cwd: str, home: str | None) -> tuple[str, str | None]:
    if path == "~" or path.startswith("~/"):
        base = home if home is not None else os.path.expanduser("~")
        return base + path[1:], None
    if path == "~+" or path.startswith("~+/"):
        return cwd + path[2:], None
    if path == "~-" or path.startswith("~-/"):
        return path, "~- depends on the shell's previous directory"
    if path.startswith("~"):
        return os.path.expanduser(path), None  # ~user: the password database, or as is
    return path, None


def normalise_path(
    path: str, cwd: str, home: str | None = None, *, parents: dict[str, str] | None = None
) -> PathCheck:
    """Every spelling of ``path`` relative to the working directory ``cwd``.

    ``home`` is what ``~`` means (default: this process's home).  A relative ``cwd`` is
    taken against this process's working directory.  Looks at the filesystem only to
    resolve symlinks (missing files are fine).  ``parents``, shared by the calls of one
    decision, keeps each parent directory's resolution so that many paths in one
    directory resolve it once.  Never raises: a path that cannot be resolved (a NUL
    byte, a loop on some platforms) gets ``error`` set and its absolute spelling as
    ``resolved``.
    """
    error: str | None = None
    try:
        base = _fold(os.path.abspath(cwd))
        expanded, error = _expand_tilde(path, base, home)
        joined = os.path.join(base, expanded) if expanded else base
        absolute = _fold(joined)
    except (OSError, ValueError) as exc:
        return PathCheck(path, path, path, (path,), f"cannot make the path absolute: {exc}")
    spellings = [absolute]
    resolved = absolute
    try:
        if ".." in joined.split("/"):
            resolved = os.path.realpath(joined)  # .. after the symlink before it, like the kernel
            spellings += [resolved, os.path.realpath(absolute)]
        else:  # the unfolded and the folded spelling are the same file: resolve once
            resolved = _resolve(absolute, parents)
            spellings.append(resolved)
    except (OSError, ValueError) as exc:
        error = error or f"cannot resolve symlinks: {exc}"
    if "\x00" in path:
        error = error or "the path contains a NUL character"
    return PathCheck(path, absolute, resolved, tuple(dict.fromkeys(spellings)), error)


def _resolve(absolute: str, parents: dict[str, str] | None) -> str:
    """``os.path.realpath(absolute)``, the parent directory's resolution kept in ``parents``."""
    if parents is None:
        return os.path.realpath(absolute)
    parent, _, name = absolute.rpartition("/")
    real_parent = parents.get(parent)
    if real_parent is None:
        real_parent = parents[parent] = os.path.realpath(parent or "/")
    joined = os.path.join(real_parent, name)
    return os.path.realpath(joined) if name and os.path.islink(joined) else joined


def _within(path: str, directory: str) -> bool:
    if directory == "/":
        return path.startswith("/")
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def is_outside(check: PathCheck, directory: str) -> bool:
    """Whether any spelling of the checked path is outside ``directory``.

    ``directory`` counts in both its own spellings (as given and symlinks resolved), so
    a session directory under a symlink (``/tmp`` -> ``/private/tmp``) still contains its
    files.  A path whose resolution failed (``check.error``) counts as outside.  Never
    raises.
    """
    if check.error is not None:
        return True
    try:
        base = _fold(os.path.abspath(directory))
        spellings = {base, os.path.realpath(base)}
    except (OSError, ValueError):
        return True
    return any(not any(_within(c, d) for d in spellings) for c in check.candidates)

"""Reading, merging and writing an agent's JSON settings file without clobbering it.

Hooks live under ``{"hooks": {EVENT: [{"matcher": ..., "hooks": [HANDLER, ...]}]}}`` in
Claude Code's, Codex's and Gemini CLI's files alike.  :func:`merge_hooks` puts one group
of ours per event and leaves every other key, group and handler as it was.
"""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs


class InstallError(Exception):
    """An installer cannot go on (nothing was written); the message says why."""


@attrs.frozen
class Change:
    """A file to write: ``before`` is its text now (None: it does not exist)."""

    path: Path
    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


@attrs.frozen
class Plan:
    """What an installer would do: files to write, and what to tell the person."""

    changes: tuple[Change, ...]
    notes: tuple[str, ...] = ()


def read_settings(path: Path) -> tuple[dict[str, Any], str | None]:
    """The JSON object in ``path`` (``{}`` if there is no file) and its text.  Raises
    InstallError if it cannot be read or is not a JSON object."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, None
    except (OSError, UnicodeDecodeError) as exc:
        raise InstallError(f"{path}: cannot read it ({exc}); nothing was written") from None
    if not text.strip():
        return {}, text
    try:
        data = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constant,
            parse_float=_finite_float,
        )
    except _Unfaithful as exc:
        raise InstallError(
            f"{path}: {exc}, which rewriting it would lose or break; fix it, nothing was written"
        ) from None
    except ValueError as exc:
        raise InstallError(
            f"{path} is not valid JSON ({exc}); fix it or move it away, nothing was written"
        ) from None
    if not isinstance(data, dict):
        raise InstallError(f"{path} holds JSON but not an object; nothing was written")
    return data, text


class _Unfaithful(Exception):
    """Valid to a JSON reader, but not written back as it was read (the message says
    what)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Unfaithful(f"the key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def _no_constant(name: str) -> float:
    raise _Unfaithful(f"it holds {name}, which is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Unfaithful(f"the number {text[:40]} is too large for a float")
    return value


def merge_hooks(
    settings: Mapping[str, Any],
    groups: Mapping[str, dict[str, Any]],
    ours: Callable[[Any], bool],
    path: Path,
) -> dict[str, Any]:
    """``settings`` with, for each event of ``groups``, our group in place: a group
    equal to it is kept where it stands; otherwise every handler ``ours`` recognises is
    taken out (groups left empty go) and the group is appended.  Raises InstallError if
    ``hooks`` or an event's list is not of the documented shape."""
    merged = dict(settings)
    hooks = merged.get("hooks", {})
    if not isinstance(hooks, dict):
        raise InstallError(f'{path}: "hooks" is not an object; nothing was written')
    hooks = dict(hooks)
    for event, group in groups.items():
        existing = hooks.get(event, [])
        if not isinstance(existing, list):
            raise InstallError(f"{path}: hooks.{event} is not a list; nothing was written")
        if group in existing and sum(_has_ours(g, ours) for g in existing) == 1:
            continue
        kept = []
        for item in existing:
            if isinstance(item, dict) and isinstance(item.get("hooks"), list):
                handlers = [h for h in item["hooks"] if not ours(h)]
                if not handlers and item["hooks"]:
                    continue  # a group of ours only
                kept.append({**item, "hooks": handlers})
            else:
                kept.append(item)
        hooks[event] = [*kept, group]
    merged["hooks"] = hooks
    return merged


def _has_ours(group: Any, ours: Callable[[Any], bool]) -> bool:
    return isinstance(group, dict) and any(ours(h) for h in group.get("hooks") or [])


def change_for(path: Path, before: str | None, data: Mapping[str, Any]) -> Change:
    """The change that writes ``data``; none (``after == before``) if it holds it
    already."""
    after = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    try:
        after.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, read from a \ud800 escape: kept escaped
        after = json.dumps(data, indent=2, allow_nan=False) + "\n"
    if before is not None and before.strip():
        try:
            if json.loads(before) == data:
                return Change(path, before, before)
        except ValueError:
            pass
    return Change(path, before, after)


def write(change: Change) -> None:
    """Write one change: a new file beside it, then renamed over it (a reader never
    sees half a file) with the old file's mode; the directory is made if missing, and a
    symlinked file is written where its link points.  Raises OSError, PermissionError
    for a file we may not write (``os.access`` says so, or no write bit is set: root
    may write anything) even when its folder would let us replace it."""
    path = change.path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    else:
        if not mode & 0o222 or not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, "the file is read-only; nothing was written")
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(change.after)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise

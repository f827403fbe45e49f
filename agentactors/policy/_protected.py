"""Writes to agentactors' own configuration and code: never allowed without a person.

A request that writes a protected path is at least ``ask``, whatever the rules, saved
approvals or policy plugins say; a ``deny`` stays a deny.  Protected:

- in every directory, a file named ``agentactors.toml`` and anything under (or named)
  ``.agentactors``: any client may open a session in any directory, so every
  directory's project file and plugin folder is someone's configuration and code;
- the user config dir, the data dirs (the default one and the one in use) and every
  loaded config file (``--config``): :class:`Protected`'s ``places``.

What counts as a write:

- a check of a write kind (``edit``, ``write``): a file tool's path, or a file a shell
  redirection, ``tee`` or ``dd of=`` writes; every spelling of it (``_paths``);
- any argument of a shell command other than a plain reader (``cat``, ``grep``…) that
  names a protected path: ``cp x .agentactors/plugins/``, ``sed -i … agentactors.toml``,
  ``curl -oagentactors.toml``, ``python -c "open('agentactors.toml', 'w')"``.  A glob or
  brace argument counts when it could name one (``.agentactor?/``, ``agentactors.{toml,x}``).

Pure functions; never raise for any input.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs
import platformdirs

from ._config import default_data_dir
from ._derive import Derived
from ._glob import compile_glob
from ._paths import normalise_path

NAMES: Final = ("agentactors.toml", ".agentactors")
"""Protected wherever they are: the project file, the project's plugin folder."""

WRITE_KINDS: Final = frozenset({"edit", "write"})

READERS: Final = frozenset(
    {
        "cat", "head", "tail", "grep", "egrep", "fgrep", "ls", "wc", "stat", "diff", "cmp",
        "echo", "printf", "test", "[", "realpath", "readlink", "basename", "dirname",
        "md5sum", "sha1sum", "sha256sum", "sha512sum",
    }
)  # fmt: skip
"""Commands that write no file whatever their arguments (their redirections are writes)."""

_PATH_MAX: Final = 4096  # bytes with the final NUL (Linux)
_WILDCARD = re.compile(r"[*?\[]")
_BRACES = re.compile(r"\{[^{}]*\}")


@attrs.frozen
class Protected:
    """The absolute places protected besides :data:`NAMES`, in every spelling."""

    places: tuple[str, ...] = ()

    @classmethod
    def of(cls, sources: Iterable[str] = (), data_dir: str | None = None) -> Protected:
        """The user config dir, the default data dir, ``data_dir`` and ``sources``."""
        places = [platformdirs.user_config_dir("agentactors"), default_data_dir(), *sources]
        if data_dir is not None:
            places.append(data_dir)
        # a relative --config is relative to this process's working directory, "."
        spellings = (normalise_path(place, ".").candidates for place in places)
        return cls(tuple(dict.fromkeys(s for found in spellings for s in found if s != "/")))

    def mark(self, derived: Derived, directory: str) -> Derived:
        """``derived`` with the protected paths it writes recorded (``protected``)."""
        found = self.written(derived, directory)
        return attrs.evolve(derived, protected=found) if found else derived

    def written(self, derived: Derived, directory: str) -> tuple[str, ...]:
        """The protected paths a request writes, each once, as given (relative or not)."""
        scan = _Scan(self.places, directory)
        paths = [c.allow_view for c in derived.checks if c.permission in WRITE_KINDS]
        arguments = (
            word for command in derived.words if command and command[0] not in READERS
            for word in command[1:]
        )  # fmt: skip
        found: dict[str, str] = {}  # the absolute spelling -> as given
        for path in dict.fromkeys([*paths, *derived.writes]):
            if scan.names(path):
                found.setdefault(scan.absolute(path), path)
        for word in dict.fromkeys(arguments):
            if scan.named_by(word):
                found.setdefault(scan.absolute(word), word)
        return tuple(found.values())


@attrs.define
class _Scan:
    """One request's look at its paths (parent directories resolved once)."""

    places: tuple[str, ...]
    directory: str
    parents: dict[str, str] = attrs.Factory(dict)
    within: tuple[str, ...] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.within = tuple(place.rstrip("/") + "/" for place in self.places)

    def spellings(self, path: str) -> tuple[str, ...]:
        return normalise_path(path, self.directory, parents=self.parents).candidates

    def absolute(self, path: str) -> str:
        return normalise_path(path, self.directory, parents=self.parents).absolute

    def named_by(self, word: str) -> bool:
        """Whether a shell argument may name a protected path (also as ``--opt=path``)."""
        if any(name in word for name in NAMES):  # -oagentactors.toml, of=.agentactors/x
            return True
        option, equals, value = word.partition("=")
        if equals:
            return self.names(value) or self.names(word)
        return not option.startswith("-") and self.names(word)

    def names(self, path: str) -> bool:
        """Whether ``path`` (relative to the directory; maybe a glob) is protected."""
        if not path:
            return False
        if len(path.encode("utf-8", "surrogatepass")) >= _PATH_MAX:
            # the kernel refuses so long a path; a glob of that length may still expand
            return bool(_WILDCARD.search(path)) or _has_braces(path)
        if _has_braces(path):  # expanded whatever files exist: every expansion counts
            patterns = self.spellings(_BRACES.sub(_brace_glob, path))
            targets = (*self.places, *(f"**/{name}" for name in NAMES))
            return any(_may_match(p, target) for p in patterns for target in targets)
        if _WILDCARD.search(path):  # expanded against the files that exist
            return any(
                _glob_names(p) or any(_may_match(p, place) for place in self.places)
                for p in self.spellings(path)
            )
        return any(self.literal(spelling) for spelling in self.spellings(path))

    def literal(self, spelling: str) -> bool:
        """Whether one absolute spelling has a protected name or is in a protected place."""
        parts = spelling.split("/")
        return any(name in parts for name in NAMES) or (
            spelling in self.places or spelling.startswith(self.within)
        )


def protected_of(metadata: Mapping[str, Any]) -> tuple[str, ...]:
    """The protected paths a stored request recorded (``metadata["protected"]``)."""
    value = metadata.get("protected")
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value)
    return (str(value),) if value else ()


def _has_braces(word: str) -> bool:
    opening = word.find("{")
    return opening >= 0 and word.find("}", opening) >= 0


def _brace_glob(group: re.Match[str]) -> str:
    """A brace group as a wildcard that covers its expansions (``**`` across a ``/``)."""
    return "**" if "/" in group.group() else "*"


def _glob_names(pattern: str) -> bool:
    """Whether the absolute glob ``pattern`` may expand to a path with a protected name.

    The shell expands a glob against the files that exist: where the first wildcard
    component could match a name, it counts when that file exists now (``rm build/*``
    does not touch an ``agentactors.toml`` that is not there); a later component could
    match one under any expansion of the first, so it always counts.
    """
    parts = pattern.split("/")
    first = next((i for i, part in enumerate(parts) if _WILDCARD.search(part)), len(parts))
    for index in range(first, len(parts)):
        for name in NAMES:
            if "**" in parts[index] or _component_matches(parts[index], name):
                if index > first:
                    return True
                if os.path.lexists("/".join([*parts[:first], name])):
                    return True
    return False


def _may_match(pattern: str, target: str) -> bool:
    """Whether some path the glob ``pattern`` expands to is ``target`` or under it.

    Component by component, as the shell expands (``*`` stays within one); ``**`` in
    either spans any number of components.
    """
    have = [p for p in pattern.split("/") if p]
    want = [p for p in target.split("/") if p]
    return _parts_match(have, 0, want, 0)


def _parts_match(have: list[str], i: int, want: list[str], j: int) -> bool:
    if j == len(want):
        return True  # the pattern reached the target: it names it or something under it
    if i == len(have):
        return False
    if "**" in have[i]:
        return True
    if want[j] == "**":
        return any(_parts_match(have, k, want, j + 1) for k in range(i, len(have)))
    return _component_matches(have[i], want[j]) and _parts_match(have, i + 1, want, j + 1)


def _component_matches(glob: str, name: str) -> bool:
    """Whether the shell glob component ``glob`` may match ``name``.

    As bash without ``dotglob``, a leading dot is matched only by a literal dot.  A
    bracket expression is taken as any one character (it may match more names, never
    fewer), so the project's own wildcard matcher answers (never backtracking).
    """
    if glob == name:
        return True
    if name.startswith(".") and not glob.startswith("."):
        return False
    return compile_glob(_brackets_as_one(glob))(name)


def _brackets_as_one(glob: str) -> str:
    """``[...]`` (``[!...]``, ``[]...]``) replaced by ``?``; an unclosed ``[`` is literal."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob[i] == "[":
            first = i + 2 if glob[i + 1 : i + 2] in ("!", "^") else i + 1
            end = glob.find("]", first + 1)
            if end < 0:
                out.append(glob[i:])  # no "]" closes this "[" or any later one
                break
            out.append("?")
            i = end + 1
        else:
            out.append(glob[i])
            i += 1
    return "".join(out)

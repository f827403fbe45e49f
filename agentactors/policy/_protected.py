"""Writes to agentactors' own configuration and code: never allowed without a person.

A request that writes a protected path is at least ``ask``, whatever the rules, saved
approvals or policy plugins say; a ``deny`` stays a deny.  Protected:

- in every directory, a file named ``agentactors.toml`` and anything under (or named)
  ``.agentactors``, in any letter case (a case-insensitive filesystem opens
  ``AgentActors.TOML``): any client may open a session in any directory, so every
  directory's project file and plugin folder is someone's configuration and code;
- the user config dir, the data dirs (the default one and the one in use) and every
  loaded config file (``--config``): :class:`Protected`'s ``places``;
- a file that is one of those by another name: a hard link (same device and inode) to
  the session directory's project file, a file under its ``.agentactors``, or a file in
  a place.

What counts as a write:

- a check of any kind but those that write no file (:data:`NO_FILE_WRITES`, compared
  casefolded: ``edit``, ``Write``, ``apply_patch``, ``multiedit``… all count): its
  patterns and the paths its metadata names (``_derive.PATH_KEYS``); a file a shell
  redirection, ``tee`` or ``dd of=`` writes; every spelling of it (``_paths``);
- any argument of a shell command other than a plain reader (``cat``, ``grep``…) that
  names a protected path: ``cp x .agentactors/plugins/``, ``sed -i … agentactors.toml``,
  ``curl -oagentactors.toml``, ``python -c "open('agentactors.toml', 'w')"``.  A glob or
  brace argument counts when it could name one (``.agentactor?/``, ``agentactors.{toml,x}``);
- a shell command that writes what no word names (``_unseen``): a tree written into
  the session directory, a directory above it or above a place, or one that holds a
  protected name now (``tar x``, ``unzip``, ``rsync``, ``cp -a src/. .``, ``patch``);
  inline code an interpreter runs (``python -c``, ``node -e``, ``perl -e``…) and git
  sub-commands that write a work tree (``apply``, ``checkout``, ``reset``…), wherever.

Pure functions but for looking at the filesystem (symlinks, what exists, inodes);
never raise for any input.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs
import platformdirs

from ._config import default_data_dir
from ._derive import Derived
from ._glob import compile_glob
from ._paths import normalise_path
from ._unseen import unseen

NAMES: Final = ("agentactors.toml", ".agentactors")
"""Protected wherever they are, in any letter case: the project file, the project's
plugin folder."""

NO_FILE_WRITES: Final = frozenset(
    {
        "bash", "read", "glob", "grep", "list", "webfetch", "websearch", "codesearch", "lsp",
        "todoread", "todowrite", "task", "skill", "question", "doom_loop", "external_directory",
    }
)  # fmt: skip
"""Kinds (casefolded) whose checks write no file; every other kind may.  ``bash`` is
looked at through its command instead (its checks are commands)."""

READERS: Final = frozenset(
    {
        "cat", "head", "tail", "grep", "egrep", "fgrep", "ls", "wc", "stat", "diff", "cmp",
        "echo", "printf", "test", "[", "realpath", "readlink", "basename", "dirname",
        "md5sum", "sha1sum", "sha256sum", "sha512sum",
    }
)  # fmt: skip
"""Commands that write no file whatever their arguments (their redirections are writes)."""

_PATH_MAX: Final = 4096  # bytes with the final NUL (Linux)
_MAX_INODES: Final = 4096  # protected files looked at for hard links, per request
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
        """The protected paths a request writes, each once, as given (relative or not);
        for what may write anywhere (inline code, a git work tree), what runs it."""
        scan = _Scan(self.places, directory)
        writing = [c for c in derived.checks if c.permission.casefold() not in NO_FILE_WRITES]
        paths = [c.allow_view for c in writing]
        named = derived.named if writing else ()
        arguments = (
            word for command in derived.words if command and command[0] not in READERS
            for word in command[1:]
        )  # fmt: skip
        found: dict[str, str] = {}  # the absolute spelling -> as given
        for path in dict.fromkeys([*paths, *named, *derived.writes]):
            if scan.names(path):
                found.setdefault(scan.absolute(path), path)
        for word in dict.fromkeys(arguments):
            if scan.named_by(word):
                found.setdefault(scan.absolute(word), word)
        for command in dict.fromkeys(derived.words):
            effect = unseen(command)
            if effect.anywhere is not None:
                found.setdefault(effect.anywhere, effect.anywhere)
            for tree in effect.trees:
                if scan.receives(tree):
                    found.setdefault(scan.absolute(tree), scan.absolute(tree))
        return tuple(found.values())


@attrs.define
class _Scan:
    """One request's look at its paths (parent directories resolved once; the inodes
    of the protected files looked up once, when a file with several links is seen)."""

    places: tuple[str, ...]
    directory: str
    parents: dict[str, str] = attrs.Factory(dict)
    folded: tuple[str, ...] = attrs.field(init=False)  # the places, casefolded
    within: tuple[str, ...] = attrs.field(init=False)  # "place/", casefolded
    _inodes: frozenset[tuple[int, int]] | None = None

    def __attrs_post_init__(self) -> None:
        self.folded = tuple(place.casefold() for place in self.places)
        self.within = tuple(place.rstrip("/") + "/" for place in self.folded)

    def spellings(self, path: str) -> tuple[str, ...]:
        return normalise_path(path, self.directory, parents=self.parents).candidates

    def absolute(self, path: str) -> str:
        return normalise_path(path, self.directory, parents=self.parents).absolute

    def named_by(self, word: str) -> bool:
        """Whether a shell argument may name a protected path (also as ``--opt=path``)."""
        folded = word.casefold()
        if any(name in folded for name in NAMES):  # -oagentactors.toml, of=.agentactors/x
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
            targets = (*self.folded, *(f"**/{name}" for name in NAMES))
            return any(_may_match(p, target) for p in patterns for target in targets)
        if _WILDCARD.search(path):  # expanded against the files that exist
            return any(
                _glob_names(p) or any(_may_match(p, place) for place in self.folded)
                for p in self.spellings(path)
            )
        spellings = self.spellings(path)
        return any(self.literal(s) for s in spellings) or self.linked(spellings[0])

    def literal(self, spelling: str) -> bool:
        """Whether one absolute spelling has a protected name or is in a protected place."""
        folded = spelling.casefold()
        parts = folded.split("/")
        return any(name in parts for name in NAMES) or (
            folded in self.folded or folded.startswith(self.within)
        )

    def linked(self, spelling: str) -> bool:
        """Whether ``spelling`` is an existing file with several links, one of which is
        a protected file (:meth:`inodes`)."""
        try:
            info = os.stat(spelling)
        except (OSError, ValueError):
            return False
        if not stat.S_ISREG(info.st_mode) or info.st_nlink < 2:
            return False
        return (info.st_dev, info.st_ino) in self.inodes()

    def inodes(self) -> frozenset[tuple[int, int]]:
        """(device, inode) of the protected files that exist: the session directory's
        project file and what is under its ``.agentactors``, and the files of the
        places (at most :data:`_MAX_INODES` files looked at)."""
        if self._inodes is None:
            roots = [os.path.join(self.directory, name) for name in NAMES]
            self._inodes = frozenset(_files(roots + list(self.places), _MAX_INODES))
        return self._inodes

    def receives(self, tree: str) -> bool:
        """Whether a tree of files written into the directory ``tree`` may write a
        protected path: it is one or names one, it is the session directory or above
        it, at or above a place, or it holds a protected name now.  A glob or brace
        destination always counts."""
        if _WILDCARD.search(tree) or _has_braces(tree) or self.names(tree):
            return True
        homes = [s.casefold() for s in self.spellings(self.directory)]
        for spelling in self.spellings(tree):
            folded = spelling.casefold()
            below = folded.rstrip("/") + "/"
            if any(p == folded or p.startswith(below) for p in (*homes, *self.folded)):
                return True
            if any(os.path.lexists(os.path.join(spelling, name)) for name in NAMES):
                return True
        return False


def _files(roots: Iterable[str], limit: int) -> Iterable[tuple[int, int]]:
    """(device, inode) of the regular files that are ``roots`` or under them (symlinks
    followed to their file, not into directories), at most ``limit`` entries looked at."""
    seen = 0
    for root in roots:
        walk: Iterable[tuple[str, list[str], list[str]]]
        if os.path.isdir(root):
            walk = os.walk(root)
        else:
            walk = [(os.path.dirname(root), [], [os.path.basename(root)])]
        for folder, _, names in walk:
            for name in names:
                seen += 1
                if seen > limit:
                    return
                try:
                    info = os.stat(os.path.join(folder, name))
                except (OSError, ValueError):
                    continue
                if stat.S_ISREG(info.st_mode):
                    yield info.st_dev, info.st_ino


def protected_of(metadata: Mapping[str, Any]) -> tuple[str, ...]:
    """The protected paths a stored request recorded (``metadata["protected"]``)."""
    value = metadata.get("protected")
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value)
    return (str(value),) if value else ()


def _has_braces(word: str) -> bool:
    """Whether ``word`` holds a group bash may brace-expand: ``{…}`` with a ``,`` or a
    ``..`` inside (``{ print $1 }`` expands to itself).  One pass."""
    opening = -1
    for index, char in enumerate(word):
        if char == "{":
            opening = index
        elif char == "}" and opening >= 0:
            inside = word[opening + 1 : index]
            if "," in inside or ".." in inside:
                return True
            opening = -1
    return False


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
    folded = [part.casefold() for part in parts]
    for index in range(first, len(parts)):
        for name in NAMES:
            if "**" in parts[index] or _component_matches(folded[index], name):
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
    have = [p for p in pattern.casefold().split("/") if p]
    want = [p for p in target.casefold().split("/") if p]
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
    return compile_glob(_brackets_as_one(glob)).match(name)


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

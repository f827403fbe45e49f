"""The docs name only what exists, and only what is in this repository.

Read: ``README.md``, ``design/*.md``, the docstrings and comments of every module under
``agentactors/``, ``tests/`` and ``benchmarks/``, and the comments of ``pyproject.toml``
and the ``Makefile``.  In them:

* a repository path (``agentactors/actors/bus.py``, ``tests/test_bus.py``,
  ``design/state.md``, ``benchmarks/``) exists; a shorter one (``store/_journal.py``,
  ``_hypercorn.py``, ``state.md``) is the end of some file's path;
* ``tests/test_x.py::test_name`` (or ``::test_name`` after a test file named earlier in
  the same doc) names a test function of that file;
* a dotted name under ``agentactors`` (``agentactors.actors.api``,
  ``agentactors.model.Session``) imports;
* nothing points at a document outside the repository or at an issue tracker: a fact a
  doc needs is stated in it, or in a ``design/`` doc it names.
"""

from __future__ import annotations

import ast
import importlib
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOTS = ("agentactors", "tests", "benchmarks", "design")
"""Top-level folders: a path starting with one of them must exist exactly."""

EXAMPLES = frozenset({"file.py", "notify.py", "path.py", "script.py"})
"""File names the docs use as examples of the user's files, not as this repository's."""
GENERATED = tuple(
    line
    for line in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    if line.startswith(ROOTS) and line.endswith("/")
)
"""Folders that ``make`` fills and git ignores (``benchmarks/results/``): a doc may name
what is written there."""

OUTSIDE = re.compile(
    r"""
      \bcontract(?:\.md|\s*§)              # the product contract and its sections
    | (?<!RFC\ \d{4}\ )§\s*\d               # a section of a document not in the repo
    | stack-notes | opencode-wire | anchors\.md | agent-hooks | style\.md
    | shared/reference | \.\./shared
    | \bissues?\s+\#?\d                     # issue 7, issue #7
    | (?<![\w&/#])\#\d+\b                   # #7
    | \bPR\s*\#?\d                          # PR 12
    """,
    re.VERBOSE | re.IGNORECASE,
)
"""A reference to a document or tracker outside the repository."""

PATH = re.compile(r"(?<![\w./~$<-])([\w.-]*[\w-][\w./-]*)((?:::\w+)+)?")
"""A path-like word, with ``::test_name`` (or ``::Class::test_name``) after it."""
BARE_TEST = re.compile(r"(?<![\w:\[])::(test_\w+)")
"""``::test_name`` alone: a test of the test file named last before it."""
DOTTED = re.compile(r"(?<![\w./-])agentactors(?:\.\w+)+")
FILE_LIKE = (".toml", ".db", ".lock", ".md", ".py", ".json", ".txt", ".mjs", ".js")

FILES = sorted(
    path.relative_to(ROOT).as_posix()
    for root in (*ROOTS, ".")
    for path in (ROOT / root).glob("*" if root == "." else "**/*")
    if path.is_file() and "__pycache__" not in path.parts and "node_modules" not in path.parts
)
DIRS = {str(Path(name).parent) for name in FILES} - {"."}


@attrs.frozen
class Doc:
    """One piece of prose: where it is, and its text."""

    where: str  # "path:line"
    text: str


def _python_docs(path: Path) -> Iterator[Doc]:
    """The docstrings (every string statement) and comments of one module."""
    source = path.read_text(encoding="utf-8")
    name = path.relative_to(ROOT).as_posix()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            yield Doc(f"{name}:{node.lineno}", node.value.value)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield Doc(f"{name}:{token.start[0]}", token.string)


def _hash_comments(path: Path) -> Iterator[Doc]:
    """The ``#`` comments of a TOML file or a Makefile, a run of commented lines as one."""
    name = path.relative_to(ROOT).as_posix()
    block: list[str] = []
    for number, line in enumerate([*path.read_text(encoding="utf-8").splitlines(), ""], 1):
        if "#" in line:
            block.append(line[line.index("#") :])
        elif block:
            yield Doc(f"{name}:{number - len(block)}", "\n".join(block))
            block = []


PYTHON = ("agentactors/", "tests/", "benchmarks/")
SELF = "tests/test_docs.py"  # its docstrings show bad references on purpose


def docs() -> Iterator[Doc]:
    """Every piece of prose this test reads."""
    for name in ("README.md", *sorted(n for n in FILES if re.fullmatch(r"design/.*\.md", n))):
        yield Doc(f"{name}:1", (ROOT / name).read_text(encoding="utf-8"))
    for name in FILES:
        if name.endswith(".py") and name.startswith(PYTHON) and name != SELF:
            yield from _python_docs(ROOT / name)
    yield from _hash_comments(ROOT / "pyproject.toml")
    yield from _hash_comments(ROOT / "Makefile")


def _line(doc: Doc, offset: int) -> str:
    path, _, first = doc.where.rpartition(":")
    line = int(first) + doc.text.count("\n", 0, offset)
    return f"{path}:{line}"


def _exists(ref: str) -> bool:
    """A repository path, exactly; or a shorter path that ends some file's path."""
    if ref.startswith(GENERATED) or ref + "/" in GENERATED:
        return True
    ref = ref.rstrip("/")
    if ref.startswith(ROOTS):
        return ref in FILES or ref in DIRS or ref in ROOTS
    return ref in FILES or any(name.endswith("/" + ref) for name in FILES)


def _is_path(word: str) -> bool:
    if word.startswith(tuple(root + "/" for root in ROOTS)):
        return True
    return word.endswith((".py", ".md")) and not word.startswith(".") and word not in EXAMPLES


def _test_names(test_file: str) -> set[str]:
    """``name`` and ``Class::name`` for every function of a test module."""
    tree = ast.parse((ROOT / test_file).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            )
    return names


def _resolves(dotted: str) -> bool:
    """Whether ``agentactors.x.y`` names a module, or an attribute of one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            fields = attrs.fields_dict(value) if attrs.has(value) else {}  # type: ignore[arg-type] # checked by attrs.has
            if part in fields:
                return True
            if not hasattr(value, part):
                return False
            value = getattr(value, part)
        return True
    return False


def bad_references(doc: Doc) -> Iterator[str]:
    """What in one piece of prose names something that is not there."""
    test_files: list[tuple[int, str]] = []  # (offset, file) of every test file named
    for match in PATH.finditer(doc.text):
        word = match.group(1).rstrip(".")
        if not _is_path(word):
            continue
        if not _exists(word):
            yield f"{_line(doc, match.start())}: {word} does not exist"
            continue
        if word.startswith("tests/") and word.endswith(".py"):
            test_files.append((match.start(), word))
            if match.group(2) and match.group(2)[2:] not in _test_names(word):
                yield f"{_line(doc, match.start())}: {word} has no test {match.group(2)[2:]}"
    for match in BARE_TEST.finditer(doc.text):
        before = [name for offset, name in test_files if offset < match.start()]
        where = _line(doc, match.start())
        if not before:
            yield f"{where}: ::{match.group(1)} names no test file before it"
        elif match.group(1) not in _test_names(before[-1]):
            yield f"{where}: {before[-1]} (named last before it) has no test {match.group(1)}"
    for match in DOTTED.finditer(doc.text):
        dotted = match.group(0).rstrip(".")
        if not dotted.endswith(FILE_LIKE) and not _resolves(dotted):
            yield f"{_line(doc, match.start())}: {dotted} does not import"


def outside_references(doc: Doc) -> Iterator[str]:
    for match in OUTSIDE.finditer(doc.text):
        yield f"{_line(doc, match.start())}: {match.group(0)!r}"


DOCS = list(docs())


def test_named_paths_tests_and_modules_exist() -> None:
    """Every path, test and ``agentactors`` name a doc gives is in the repository."""
    bad = [bad for doc in DOCS for bad in bad_references(doc)]
    assert not bad, "\n".join(bad)


def test_no_reference_leaves_the_repository() -> None:
    """No doc, docstring or comment sends the reader to a document outside the repository
    or to an issue number."""
    outside = [bad for doc in DOCS for bad in outside_references(doc)]
    assert not outside, "\n".join(outside)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("see design/nowhere.md", "design/nowhere.md does not exist"),
        ("held by ``agentactors/actors/_gone.py``", "agentactors/actors/_gone.py does not"),
        ("(``store/_gone.py``)", "store/_gone.py does not exist"),
        ("tests/test_bus.py::test_never_written", "has no test test_never_written"),
        ("`tests/test_bus.py::test_a_slow_subscriber_lags_and_loses_the_oldest`, `::test_x`",
         "has no test test_x"),
        ("``agentactors.actors.wire``", "agentactors.actors.wire does not import"),
    ],
)  # fmt: skip
def test_a_planted_bad_reference_is_found(text: str, complaint: str) -> None:
    """The scan is not vacuous: each kind of bad reference is reported."""
    found = list(bad_references(Doc("planted.md:1", text)))
    assert len(found) == 1
    assert complaint in found[0]


@pytest.mark.parametrize(
    "text",
    [
        "as the product contract §7 says",
        "see stack-notes",
        "opencode-wire.md",
        "fixed in issue 7",
        "(#12)",
        "../shared/reference/x.md",
    ],
)
def test_a_planted_outside_reference_is_found(text: str) -> None:
    assert list(outside_references(Doc("planted.py:1", text))) != []


def test_good_references_pass() -> None:
    """Existing paths, tests, modules, examples and RFC sections are not reported."""
    text = (
        "``agentactors/actors/bus.py``, store/_journal.py, design/state.md., "
        "`tests/test_bus.py::test_a_slow_subscriber_lags_and_loses_the_oldest`, "
        "``agentactors.actors.api.ask``, agentactors.toml, notify.py, ./file.py, "
        "RFC 9112 §6.3, [::1]"
    )
    doc = Doc("good.md:1", text)
    assert list(bad_references(doc)) == []
    assert list(outside_references(doc)) == []

"""The floors of the package, read from every module's imports (no import runs).

model <- policy (shell/ below it) <- integrations <- actors (runtime/ <- store/ <- the
actors) <- client <- plugins and cluster <- http <- the command line.  A module imports only from
its own package or a lower floor; another package only through its face (its
``__init__`` or a module without a leading underscore); and no chain of imports leads
back to where it started.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "agentactors"

FLOORS = {
    "agentactors.model": 0,
    "agentactors.policy.shell": 1,
    "agentactors.policy": 2,
    "agentactors.integrations": 3,  # pure: agents' tool calls and hook answers, installers
    "agentactors.actors.runtime": 4,
    "agentactors.actors.store": 5,
    "agentactors.actors": 6,
    "agentactors.client": 7,
    "agentactors.plugins": 8,
    "agentactors.cluster": 8,  # loaded by http only for serve --cluster
    "agentactors.http": 9,
    "agentactors": 10,  # the command line and the top-level face
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}


def _package(module: str) -> str:
    """The package a module belongs to (a package's ``__init__`` belongs to itself)."""
    return module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]


def _floor(module: str) -> str:
    """The nearest enclosing package named in FLOORS."""
    name = _package(module)
    while name not in FLOORS:
        name = name.rpartition(".")[0]
    return name


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str) -> Iterator[tuple[str, int, bool]]:
    """(imported agentactors module, line, only for type checking) for every import in
    ``module``, wherever it stands (lazy imports in functions included)."""
    tree = ast.parse(MODULES[module].read_text(), str(MODULES[module]))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _type_checking(node):
            typing_only |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    package = _package(module)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            # ``from package import submodule`` imports the submodule
            names = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source
                for alias in node.names
            ]
        else:
            continue
        for name in dict.fromkeys(names):
            if name.split(".")[0] == "agentactors":
                yield name, node.lineno, id(node) in typing_only


def _is_face(target: str) -> bool:
    """A package's ``__init__`` or a module without a leading underscore in a package
    whose path has none either."""
    return not any(part.startswith("_") for part in target.split(".")[1:])


def test_every_module_lies_on_a_known_floor() -> None:
    """Each package under agentactors/ is a floor or inside one, and is a package (an
    ``__init__.py``, so setuptools' find ships it)."""
    for module, path in MODULES.items():
        assert (path.parent / "__init__.py").is_file(), f"{path.parent} is not a package"
        assert _floor(module) in FLOORS


@pytest.mark.parametrize("module", sorted(MODULES))
def test_nothing_imports_upward(module: str) -> None:
    """A module imports its own floor or lower floors only (type-only imports too)."""
    floor = FLOORS[_floor(module)]
    upward = [
        f"line {line}: {target}"
        for target, line, _ in _imports(module)
        if FLOORS[_floor(target)] > floor
    ]
    assert not upward, f"{module} imports from a higher floor: {upward}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_other_packages_only_through_their_face(module: str) -> None:
    """A module reaches another package through its face, never its private modules."""
    package = _package(module)
    private = [
        f"line {line}: {target}"
        for target, line, _ in _imports(module)
        if _package(target) != package and not _is_face(target)
    ]
    assert not private, f"{module} reaches into private modules: {private}"


def test_no_import_cycles() -> None:
    """No chain of imports run at import or call time leads from a module back to it
    (imports for type checking only are left out: they never run)."""
    graph = {
        module: {target for target, _, typing_only in _imports(module) if not typing_only}
        for module in MODULES
    }
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        path.append(module)
        for target in sorted(graph[module]):
            visit(target)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_no_cycles_between_packages() -> None:
    """Packages (a floor's subpackages included) import each other in one direction."""
    edges = {
        (_package(module), _package(target))
        for module in MODULES
        for target, _, _ in _imports(module)
        if _package(module) != _package(target)
    }
    backward = sorted((a, b) for a, b in edges if (b, a) in edges)
    assert not backward, f"packages importing each other: {backward}"

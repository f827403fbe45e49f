"""Path spellings for file rules: ~, .., relative paths and real symlinks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentactors.policy._paths import PathCheck, is_outside, normalise_path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """tmp/project (the session directory), tmp/outside/secret, and links between them."""
    root = tmp_path.resolve()
    project = root / "project"
    outside = root / "outside"
    (project / "src").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret").write_text("s")
    (project / "src" / "main.py").write_text("m")
    (project / "link-out").symlink_to(outside)  # a directory link leaving the project
    (project / "secret-link").symlink_to(outside / "secret")  # a file link leaving it
    (project / "inner-link").symlink_to(project / "src")  # a link staying inside
    (root / "project-link").symlink_to(project)  # the project reached through a link
    return root


@pytest.mark.parametrize(
    ("path", "absolute"),
    [
        ("src/main.py", "project/src/main.py"),
        ("./src/../src/./main.py", "project/src/main.py"),
        ("src//main.py", "project/src/main.py"),
        ("../outside/secret", "outside/secret"),
        ("", "project"),
        (".", "project"),
    ],
)
def test_absolute_against_cwd(tree: Path, path: str, absolute: str) -> None:
    check = normalise_path(path, str(tree / "project"))
    assert check.absolute == str(tree / absolute)
    assert check.raw == path
    assert check.error is None


def test_absolute_paths_and_root() -> None:
    assert normalise_path("/etc/../etc/passwd", "/tmp").absolute == "/etc/passwd"
    assert normalise_path("//etc//passwd", "/tmp").absolute == "/etc/passwd"
    assert normalise_path("/../../etc", "/tmp").absolute == "/etc"


def test_tilde(tree: Path) -> None:
    home = str(tree / "outside")
    cwd = str(tree / "project")
    assert normalise_path("~/secret", cwd, home).absolute == f"{home}/secret"
    assert normalise_path("~", cwd, home).absolute == home
    assert normalise_path("~+/src", cwd, home).absolute == f"{cwd}/src"
    assert normalise_path("a/~/b", cwd, home).absolute == f"{cwd}/a/~/b"  # not at the start
    assert normalise_path("~-/x", cwd, home).error is not None
    assert normalise_path("~/x", cwd).absolute == os.path.expanduser("~/x")


def test_symlinked_directory_gives_both_spellings(tree: Path) -> None:
    project = tree / "project"
    check = normalise_path("link-out/secret", str(project))
    assert check.absolute == str(project / "link-out" / "secret")
    assert check.resolved == str(tree / "outside" / "secret")
    assert check.candidates == (check.absolute, check.resolved)
    assert is_outside(check, str(project))


def test_symlinked_file(tree: Path) -> None:
    project = tree / "project"
    check = normalise_path("secret-link", str(project))
    assert check.resolved == str(tree / "outside" / "secret")
    assert is_outside(check, str(project))


def test_dotdot_after_a_link_follows_the_kernel(tree: Path) -> None:
    # link-out/.. is tree/ for the kernel (the link's target's parent), project/ lexically
    project = tree / "project"
    check = normalise_path("link-out/../outside/secret", str(project))
    assert check.absolute == str(project / "outside" / "secret")  # lexical, inside
    assert check.resolved == str(tree / "outside" / "secret")  # what open() reaches
    assert is_outside(check, str(project))


def test_link_staying_inside(tree: Path) -> None:
    project = tree / "project"
    check = normalise_path("inner-link/main.py", str(project))
    assert check.resolved == str(project / "src" / "main.py")
    assert not is_outside(check, str(project))


def test_session_directory_under_a_link(tree: Path) -> None:
    through = tree / "project-link"
    check = normalise_path("src/main.py", str(through))
    assert check.absolute == str(through / "src" / "main.py")
    assert check.resolved == str(tree / "project" / "src" / "main.py")
    assert not is_outside(check, str(through))
    # spelled through a link outside the real directory: strict, one spelling is outside
    assert is_outside(check, str(tree / "project"))
    assert is_outside(normalise_path("../outside/secret", str(through)), str(through))


def test_missing_files_are_fine(tree: Path) -> None:
    check = normalise_path("new/dir/file.txt", str(tree / "project"))
    assert check.resolved == str(tree / "project" / "new" / "dir" / "file.txt")
    assert check.candidates == (check.absolute,)
    assert not is_outside(check, str(tree / "project"))


def test_prefix_is_not_containment(tree: Path) -> None:
    (tree / "project-other").mkdir()
    check = normalise_path("../project-other/x", str(tree / "project"))
    assert is_outside(check, str(tree / "project"))
    assert not is_outside(check, str(tree))
    assert not is_outside(check, "/")


def test_symlink_loop_does_not_raise(tree: Path) -> None:
    project = tree / "project"
    (project / "loop-a").symlink_to(project / "loop-b")
    (project / "loop-b").symlink_to(project / "loop-a")
    check = normalise_path("loop-a/x", str(project))
    assert isinstance(check, PathCheck)
    assert check.absolute == str(project / "loop-a" / "x")


def test_nul_byte_fails_closed(tree: Path) -> None:
    check = normalise_path("src/\x00/x", str(tree / "project"))
    assert check.error is not None
    assert is_outside(check, str(tree / "project"))


def test_relative_cwd_uses_the_process_directory() -> None:
    check = normalise_path("x", "rel")
    assert check.absolute == os.path.join(os.getcwd(), "rel", "x")

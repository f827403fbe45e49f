"""Bypass attempts decided end to end by the permission service.

Config: ``ls *``, ``git status``, ``echo *`` allowed; ``rm *``, ``curl *`` denied; the
rest asks; writing under /etc denied.  Each command arrives as ``metadata.command`` with
no patterns, so the server parses it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentactors.actors import api
from agentactors.actors._lifecycle import RunningServices
from agentactors.model import Rule
from agentactors.policy import Config

RULES = (
    Rule("bash", "*", "ask"),
    Rule("bash", "ls *", "allow"),
    Rule("bash", "git status", "allow"),
    Rule("bash", "echo *", "allow"),
    Rule("bash", "rm *", "deny"),
    Rule("bash", "curl *", "deny"),
    Rule("edit", "*", "allow"),
    Rule("edit", "/etc/*", "deny"),
    Rule("read", "*", "allow"),
    Rule("external_directory", "*", "ask"),
)


@pytest.fixture
def config() -> Config:
    return Config(rules_before_project=RULES, read_project_files=False)


CASES = [
    # harmless things stay allowed
    ("ls -la", "allow"),
    ("ls && git status", "allow"),
    ("echo hi | ls", "allow"),
    # separators and hidden execution cannot smuggle a denied command
    ("ls && rm -rf /", "deny"),
    ("ls; rm -rf /", "deny"),
    ("ls || rm x", "deny"),
    ("ls | rm x", "deny"),
    ("ls & rm x", "deny"),
    ("ls\nrm x", "deny"),
    # tree-sitter-bash 0.25 joins these two lines into one command "ls rm -rf /"
    ("( ls ) | ( ls ) | ls\nrm -rf / && ls", "deny"),
    ("( ls -la ) | ( echo hi ) | ls -la\ncurl evil.example && ls", "deny"),
    ("echo $(rm x)", "deny"),
    ("echo `rm x`", "deny"),
    ("ls <(rm x)", "deny"),
    ("(rm x)", "deny"),
    ("{ rm x; }", "deny"),
    ("if true; then rm x; fi", "deny"),
    ("for f in a; do rm $f; done", "deny"),
    # wrappers
    ("sh -c 'rm -rf /'", "deny"),
    ('bash -c "rm x"', "deny"),
    ("eval 'rm x'", "deny"),
    ("timeout 5 rm x", "deny"),
    ("nice -n 5 rm x", "deny"),
    ("env FOO=1 rm x", "deny"),
    ("sudo rm x", "deny"),
    ("xargs rm < list", "deny"),
    ("find . -exec rm {} \\;", "deny"),
    # env prefixes: deny sees past all; allow only past safe ones
    ("FOO=1 rm x", "deny"),
    ("LANG=C ls", "allow"),
    ("LD_PRELOAD=/tmp/x.so ls", "ask"),
    # quoting tricks
    ("r''m x", "deny"),
    ("\\rm x", "deny"),
    ("$'\\x72m' x", "deny"),
    ('"rm" x', "deny"),
    # lookalikes are not covered by "ls *"
    ("lsof", "ask"),
    # redirects that write are edits
    ("echo x > /etc/passwd", "deny"),
    ("echo x >> notes.txt", "allow"),
    # opaque: never allowed, deny still applies to what is visible
    ("$CMD", "ask"),
    ("$(echo ls)", "ask"),
    ('eval "$X"', "ask"),
    ("f() { ls; }; f", "ask"),
    ('ls "unterminated', "ask"),
    ("ls " + "a" * 20_000, "ask"),
]


@pytest.mark.parametrize(("command", "effect"), CASES, ids=[c[:40] for c, _ in CASES])
async def test_bypass_attempts(services: RunningServices, command: str, effect: str) -> None:
    """Every part of a compound command is decided; the strictest wins."""
    session = await api.create_session("/work/project")
    asked = await api.ask(session.id, "bash", metadata={"command": command})
    assert asked.effect == effect, asked.patterns


async def test_always_saves_one_pattern_per_part(services: RunningServices) -> None:
    """Approving a compound saves each part's prefix, never a bare catch-all."""
    session = await api.create_session("/work/project")
    asked = await api.ask(
        session.id, "bash", metadata={"command": "git fetch origin && npm run build"}
    )
    assert asked.always == ("git fetch *", "npm run *")
    await api.reply(asked.id, "always")
    again = await api.ask(session.id, "bash", metadata={"command": "git fetch upstream"})
    assert again.effect == "allow"
    other = await api.ask(session.id, "bash", metadata={"command": "git push"})
    assert other.effect == "ask"


async def test_opaque_requests_say_why(services: RunningServices) -> None:
    """An opaque request carries metadata.opaque and the reasons, and asks."""
    session = await api.create_session("/work/project")
    asked = await api.ask(session.id, "bash", metadata={"command": "$CMD arg"})
    assert asked.metadata["opaque"] is True
    assert asked.metadata["opaqueReasons"]


async def test_paths_outside_need_external_directory(
    services: RunningServices, tmp_path: Path
) -> None:
    """read of ../outside asks external_directory; a symlink out of the project too."""
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "secret").write_text("x")
    os.symlink(tmp_path / "secret", project / "link")
    session = await api.create_session(str(project))
    inside = await api.ask(session.id, "read", metadata={"path": "src/main.py"})
    assert inside.effect == "allow"
    outside = await api.ask(session.id, "read", metadata={"path": "../secret"})
    assert outside.effect == "ask"
    via_link = await api.ask(session.id, "read", metadata={"path": "link"})
    assert via_link.effect == "ask"
    assert str(tmp_path / "secret") in via_link.patterns

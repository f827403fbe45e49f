"""The shell analyser's cost bound: hostile shapes up to the 64 KB a request may carry
are answered (opaque when the full analysis is refused), never raise, log nothing, and
deny rules still see the command hidden in them; the plain split behind that; and one
such command asked of a real server, which denies it and stays healthy meanwhile.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable

import pytest
import trio

from agentactors.model import Rule
from agentactors.policy import Config
from agentactors.policy.shell import _budget as budget
from agentactors.policy.shell import analyse_bash
from agentactors.policy.shell._analysis import (
    MAX_COMMAND_CHARS,
    MAX_CONTROLS,
    MAX_PIPELINE,
    BashAnalysis,
)
from agentactors.policy.shell._split import split_commands
from agentactors.policy.shell._words import Out

from .http_helpers import Live
from .test_shell import decide

RM = "rm -rf /"


def _repeat(unit: str, size: int, close: str = "", tail: str = RM) -> str:
    """``unit`` repeated, ``tail``, ``close`` as often as ``unit``: about ``size`` chars."""
    count = (size - len(tail)) // (len(unit) + len(close))
    return unit * count + tail + close * count


SHAPES: dict[str, Callable[[int], str]] = {
    "pipes a|": lambda size: _repeat("a|", size),
    "lists a&&": lambda size: _repeat("a&&", size),
    "semicolons ;": lambda size: _repeat(";", size),
    "commands a;": lambda size: _repeat("a;", size),
    "newlines": lambda size: _repeat("a\n", size),
    "open $(": lambda size: _repeat("$(", size),
    "closed $( )": lambda size: _repeat("$(", size, ")"),
    "backticks": lambda size: _repeat("`", size),
    "nested backticks": lambda size: _repeat("echo `", size, "`"),
    "subshells": lambda size: _repeat("(", size, ")"),
    "groups": lambda size: _repeat("{ ", size, "; }"),
    "quoted $(": lambda size: _repeat('"$(', size),
    "quotes": lambda size: _repeat("echo 'a' \"b\" $'c'; ", size),
    "expansions": lambda size: "echo " + _repeat('"$x" ', size - 5, tail="; " + RM),
    "heredoc": lambda size: "cat <<EOF\n" + _repeat("line $x\n", size - 10, tail="EOF\n" + RM),
    "heredocs": lambda size: _repeat("cat <<E\nx\nE\n", size),
    "ifs": lambda size: _repeat("if a; then ", size, "; fi"),
    "wrappers": lambda size: _repeat("sudo -u x timeout 5 ", size),
    "distinct commands": lambda size: ";".join(f"a{i}" for i in range(size // 7)) + ";" + RM,
    "arithmetic": lambda size: "echo $((" + _repeat("1+", size - 8, tail="1)); " + RM),
}


def _denied(analysis: BashAnalysis) -> bool:
    return RM in {c.deny_text for c in analysis.commands} and decide(analysis) == "deny"


@pytest.mark.parametrize("size", [4_000, MAX_COMMAND_CHARS, 65_000])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_deny_sees_every_shape(shape: str, size: int, caplog: pytest.LogCaptureFixture) -> None:
    """Each shape at 4 KB, 16 KB and 64 KB is answered, logs nothing, and is denied for
    the ``rm -rf /`` in it; over 16 KB it is opaque (never allowed, no always)."""
    command = SHAPES[shape](size)
    assert len(command) <= size + len(RM)
    with caplog.at_level(logging.DEBUG, logger="agentactors"):
        analysis = analyse_bash(command)
    assert caplog.records == []
    assert _denied(analysis), (analysis.reasons, analysis.commands[:5])
    if len(command) > MAX_COMMAND_CHARS:
        assert analysis.opaque
        assert analysis.always == ()


@pytest.mark.parametrize(
    "command",
    ["a|" * 32_000 + RM, "a&&" * 1_000 + RM, "$(" * 400 + RM + ")" * 400, "$(" * 400 + RM],
    ids=["64 KB pipeline", "3 KB chain", "$( 400 closed", "$( 400 open"],
)
def test_reported_commands_are_denied(command: str, caplog: pytest.LogCaptureFixture) -> None:
    """The commands once found slow, or asked instead of denied, with a traceback
    logged: denied, and nothing logged."""
    with caplog.at_level(logging.DEBUG, logger="agentactors"):
        analysis = analyse_bash(command)
    assert caplog.records == []
    assert _denied(analysis), analysis.reasons


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("a&&" * 300 + RM, None),  # past MAX_NESTING: a chain is walked without recursion
        ("a | b >&2 | " * 60 + RM, None),
        ("$(" * 400 + RM + ")" * 400, "nested more than"),
        ("$(" * 150 + RM + ")" * 150, "nested more than"),
        ("a|" * (MAX_PIPELINE + 1) + RM, "a pipeline longer than"),
        ("a;" * (MAX_CONTROLS + 1) + RM, "control operators"),
        ("echo " + '"$x" ' * 2_500 + "; " + RM, "syntax nodes"),
        ("ls " * (MAX_COMMAND_CHARS // 3) + "&& " + RM, "longer than"),
    ],
    ids=["chain", "redirected pipeline", "$( 400", "$( 150", "pipeline", "controls", "nodes",
         "length"],
)  # fmt: skip
def test_each_limit_refuses_to_the_split(command: str, reason: str | None) -> None:
    """Each limit names itself in the reasons; the split still shows deny ``rm -rf /``."""
    analysis = analyse_bash(command)
    assert _denied(analysis)
    if reason is None:
        assert not analysis.opaque, analysis.reasons
    else:
        assert analysis.opaque
        assert any(reason in r and "plain split" in r for r in analysis.reasons), analysis.reasons


def test_cpu_budget_cancels_the_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no CPU time left the parse is cancelled: opaque, deny still sees, and the
    parser, reset, parses the next command afresh."""
    command = "ls -la | grep x && " * 40 + RM
    monkeypatch.setattr(budget, "CPU_SECONDS", -1.0)
    analysis = analyse_bash(command)
    assert analysis.opaque
    assert any("CPU time" in reason for reason in analysis.reasons), analysis.reasons
    assert _denied(analysis)
    monkeypatch.undo()
    again = analyse_bash(command + " ")
    assert not again.opaque, again.reasons
    assert {c.deny_text for c in again.commands} == {"ls -la", "grep x", RM}


def test_wrappers_nested_too_deeply_still_deny() -> None:
    """Past the nesting of wrappers and ``sh -c`` the walk stops; the split sees on."""
    wrappers = analyse_bash("sudo -u x " * 12 + RM)
    assert wrappers.opaque
    assert _denied(wrappers)
    code = RM
    for _ in range(9):
        code = "sh -c " + "'" + code.replace("'", "'\\''") + "'"
    for nested in (analyse_bash(code), analyse_bash("eval " * 12 + RM)):
        assert nested.opaque
        assert _denied(nested)


def test_a_defect_is_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    """A defect (here a RecursionError: the caller is deep in its stack) gives an opaque
    answer the split still denies, and one log line without a traceback."""
    command = "$(" * 60 + RM + ")" * 60 + " # deep caller"
    depth = len(inspect.stack(context=0))

    def down(levels: int) -> BashAnalysis:
        return analyse_bash(command) if levels == 0 else down(levels - 1)

    with caplog.at_level(logging.DEBUG, logger="agentactors"):
        analysis = down(sys.getrecursionlimit() - depth - 80)
    assert analysis.opaque
    assert _denied(analysis)
    assert [r.exc_info for r in caplog.records] == [None]
    assert "RecursionError" in caplog.records[0].getMessage()
    assert "\n" not in caplog.records[0].getMessage()


# -- the plain split ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "sees"),
    [
        ("a; b && c || d | e & f\ng", {"a", "b", "c", "d", "e", "f", "g"}),
        ("echo $(rm x) `rm y` <(rm z)", {"rm x", "rm y", "rm z"}),
        ("\"rm\" x; r''m y; \\rm z; $'\\x72m' w", {"rm x", "rm y", "rm z", "rm w"}),
        ("FOO=1 /bin/rm -rf / 2>/dev/null", {RM}),
        ("sudo -u root timeout -s KILL 5 env X=1 rm x", {"rm x"}),
        ("sudo -u x sudo -u x sudo -u x rm x", {"rm x"}),
        ("find . -name x -exec rm {} \\;", {"rm {}"}),
        ("sh -c 'ls; rm x'", {"ls", "rm x"}),
        ("if a; then { ! rm x; }; fi", {"a", "rm x"}),
        ("for f in *; do rm $f; done", {"rm $f"}),
        ("r\\\nm x", {"rm x"}),
    ],
)
def test_split_sees(command: str, sees: set[str]) -> None:
    out = Out()
    split_commands(command, out)
    assert sees <= {c.deny_text for c, _ in out.commands}, out.commands


@pytest.mark.parametrize(
    ("command", "writes"),
    [
        ("echo x > /etc/a >> /etc/b &> /etc/c 2> /etc/d >| /etc/e", ["/etc/a", "/etc/b",
                                                                    "/etc/c", "/etc/d",
                                                                    "/etc/e"]),
        ("ls >/dev/null 2>&1 >&2 <in <<<x", []),
        ("ls >& /etc/a; tee -a /etc/b /etc/c; dd if=x of=/etc/d", ["/etc/a", "/etc/b",
                                                                  "/etc/c", "/etc/d"]),
    ],
)  # fmt: skip
def test_split_writes(command: str, writes: list[str]) -> None:
    out = Out()
    split_commands(command, out)
    assert out.writes == writes
    assert all(">" not in c.deny_text for c, _ in out.commands)


# -- through a real server ----------------------------------------------------------------


@pytest.fixture
def config() -> Config:
    rules = (Rule("bash", "*", "allow"), Rule("bash", "rm *", "deny"))
    return Config(rules_before_project=rules, read_project_files=False)


async def test_server_denies_a_64_kb_pipeline_and_stays_healthy(live: Live) -> None:
    """The 64 KB ``a|a|…|rm -rf /`` that once held the server for a minute is denied,
    and ``/global/health`` answers while it is decided."""
    session = await live.session()
    command = "a|" * 32_000 + RM
    answers: dict[str, int | str] = {}

    async def ask() -> None:
        response = await live.ask(session["id"], command)
        assert response.status_code == 200, response.text
        answers["effect"] = response.json()["effect"]

    async def health() -> None:
        response = await live.client.get("/global/health")
        answers["health"] = response.status_code

    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ask)
            nursery.start_soon(health)
    assert answers == {"effect": "deny", "health": 200}

"""Rule semantics, table-driven: wildcards, last match wins, strictest pattern, approvals."""

from __future__ import annotations

import pytest

from agentactors.model import Decider, Rule, SavedApproval
from agentactors.policy import wildcard_match
from agentactors.policy._decide import decide

CONFIG = (
    Rule("bash", "*", "ask"),
    Rule("bash", "git status", "allow"),
    Rule("bash", "git log *", "allow"),
    Rule("bash", "ls *", "allow"),
    Rule("bash", "rm *", "deny"),
    Rule("read", "*", "allow"),
    Rule("edit", "*", "ask"),
    Rule("edit", "/etc/*", "deny"),
)


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("*", "anything at all", True),
        ("git *", "git", True),
        ("git *", "git log", True),
        ("git *", "gitk", False),
        ("ls *", "lsof", False),
        ("ls *", "ls -la", True),
        ("git status", "git status --short", False),
        ("r?m", "rim", True),
        ("r?m", "rm", False),
        ("/etc/*", "/etc/passwd", True),
        ("/etc/*", "/home/etc/passwd", False),
        ("a.b", "axb", False),  # regex characters are literal
        ("[x]", "[x]", True),
        ("echo *", "echo a\nrm -rf /", True),  # * spans newlines (the parser splits them)
    ],
)
def test_wildcards(pattern: str, text: str, matches: bool) -> None:
    """`*` any run, `?` one char, anchored, `"x *"` also matches bare `x`."""
    assert wildcard_match(pattern, text) is matches


@pytest.mark.parametrize(
    ("permission", "patterns", "effect", "rule_pattern"),
    [
        ("bash", ["git status"], "allow", "git status"),
        ("bash", ["git log --oneline"], "allow", "git log *"),
        ("bash", ["git push"], "ask", "*"),
        ("bash", ["rm -rf /"], "deny", "rm *"),
        ("bash", ["ls", "rm x"], "deny", "rm *"),  # strictest pattern decides
        ("bash", ["ls", "git push"], "ask", "*"),
        ("bash", ["ls -la", "git status"], "allow", "ls *"),
        ("read", ["/any/file"], "allow", "*"),
        ("edit", ["/etc/hosts"], "deny", "/etc/*"),
        ("edit", ["/home/x"], "ask", "*"),
        ("webfetch", ["https://x"], "ask", None),  # no rule: ask
    ],
)
def test_rules(permission: str, patterns: list[str], effect: str, rule_pattern: str | None) -> None:
    """Each pattern decided alone by the last matching rule; the request takes the strictest."""
    decision = decide(CONFIG, (), permission, patterns)
    assert decision.effect == effect
    assert (decision.rule.pattern if decision.rule else None) == rule_pattern


def test_last_matching_rule_wins() -> None:
    """A later rule overrides an earlier one for the same pattern (layers append)."""
    rules = (*CONFIG, Rule("bash", "rm *", "ask"))
    assert decide(rules, (), "bash", ["rm x"]).effect == "ask"
    rules = (*CONFIG, Rule("bash", "git status", "deny"))
    assert decide(rules, (), "bash", ["git status"]).effect == "deny"


def approval(pattern: str, permission: str = "bash") -> SavedApproval:
    return SavedApproval(
        id="apr_01M86R58YQ77K925QPNE6NMD25",
        permission=permission,
        pattern=pattern,
        scope="session",
        session_id="ses_x",
        directory="/p",
        created=0,
        saved_by=Decider("user"),
    )


@pytest.mark.parametrize(
    ("approved", "patterns", "effect"),
    [
        ("git push *", ["git push origin"], "allow"),
        ("git push *", ["git push origin", "git commit"], "ask"),
        ("rm *", ["rm x"], "deny"),  # an approval never overrides a configured deny
        ("*", ["rm -rf /"], "deny"),
        ("*", ["make"], "allow"),
    ],
)
def test_saved_approvals_lift_ask_never_deny(
    approved: str, patterns: list[str], effect: str
) -> None:
    """Approvals turn ask into allow per pattern; deny stays deny."""
    assert decide(CONFIG, [approval(approved)], "bash", patterns).effect == effect


def test_opaque_requests_are_never_allowed() -> None:
    """An opaque command asks even if every visible part is allowed; deny still denies."""
    assert decide(CONFIG, (), "bash", ["ls"], opaque=True).effect == "ask"
    assert decide(CONFIG, [approval("*")], "bash", ["make"], opaque=True).effect == "ask"
    assert decide(CONFIG, (), "bash", ["rm x"], opaque=True).effect == "deny"

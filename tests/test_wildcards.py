"""The wildcard matcher: the regex semantics it replaced, without the regex's backtracking."""

from __future__ import annotations

import re

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from agentactors.policy import wildcard_match
from agentactors.policy._glob import compile_glob

from .http_helpers import Live

PATHOLOGICAL = "*a*a*a*a*a*a*a*a*b"


def oracle(pattern: str, text: str) -> bool:
    """The former matcher, a backtracking regex: the semantics to keep (small inputs only)."""
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    body = "".join(parts)
    if pattern.endswith(" *"):
        body = body[: -len(re.escape(" ") + ".*")] + "(?: .*)?"
    return re.fullmatch(body, text, re.DOTALL) is not None


CASES = [
    ("", ""),
    ("", "a"),
    ("*", ""),
    ("**", "ab"),
    ("?", ""),
    ("?", "\n"),
    ("a*", "a"),
    ("*a", "ba"),
    ("a*a", "a"),
    ("a*a", "aa"),
    ("a?*?a", "aaaa"),
    ("a?*?a", "aaa"),
    ("*?*", ""),
    ("*ab?b*", "xabab"),
    ("*ab?b*", "xababb"),
    ("*aab*", "aaab"),
    ("*a?a*", "aba"),
    ("ab*ba", "aba"),
    ("ab*ba", "abba"),
    (" *", ""),
    (" *", " x"),
    (" *", "x"),
    ("git *", "git"),
    ("git *", "git "),
    ("git *", "gitk"),
    ("git *", "git\nlog"),
    ("ls *", "ls -la"),
    ("ls *", "lsof"),
    ("* *", "a"),
    ("* *", "a b"),
    ("a  *", "a "),
    ("a  *", "a"),
    ("echo *", "echo a\nrm -rf /"),
    ("a.b", "axb"),
    ("[x]", "[x]"),
    ("\\d", "\\d"),
    ("(?:x)", "(?:x)"),
    ("/etc/*", "/home/etc/passwd"),
    (PATHOLOGICAL, "a" * 20 + "b"),
    (PATHOLOGICAL, "a" * 20),
    (PATHOLOGICAL, "ab" * 10),
]


@pytest.mark.parametrize(("pattern", "text"), CASES)
def test_table_agrees_with_the_former_regex(pattern: str, text: str) -> None:
    """Stars, `?`, literals, regex metacharacters and the `" *"` suffix as before."""
    assert wildcard_match(pattern, text) is oracle(pattern, text)


@settings(max_examples=3000, deadline=None)
@given(st.text("ab*? \n", max_size=9), st.text("ab \n", max_size=12))
def test_agrees_with_the_former_regex(pattern: str, text: str) -> None:
    """On a small alphabet (so the oracle stays fast), every answer is the regex's."""
    assert wildcard_match(pattern, text) is oracle(pattern, text)


@settings(max_examples=1000, deadline=None)
@given(st.text("ab?", max_size=6).flatmap(lambda p: st.tuples(st.just(p), st.text("ab"))))
def test_a_piece_agrees_with_the_former_regex(case: tuple[str, str]) -> None:
    """A star-free pattern (literals and `?`) matches exactly the texts the regex did."""
    pattern, text = case
    assert compile_glob(pattern)(text) is oracle(pattern, text)


@pytest.mark.parametrize(
    ("text", "matches"),
    [("a" * 44, False), ("a" * 10_000, False), ("a" * 9_999 + "b", True), ("ab" * 5_000, True)],
)
def test_pathological_pattern_is_answered(text: str, matches: bool) -> None:
    """`*a*a*a*a*a*a*a*a*b` against long runs of `a` answers (the regex took seconds at 44)."""
    assert wildcard_match(PATHOLOGICAL, text) is matches


async def test_pathological_session_rule_answers_an_ask(live: Live) -> None:
    """A session rule `*a*a*a*a*a*a*a*a*b` and an ask for `"a" * 60` get their answer: ask."""
    rule = {"permission": "bash", "pattern": PATHOLOGICAL, "action": "allow"}
    session = await live.session(permission=[rule])
    with trio.fail_after(10):
        response = await live.client.post(
            f"/session/{session['id']}/permission",
            json={"permission": "bash", "patterns": ["a" * 60]},
        )
    assert response.status_code == 200, response.text
    assert response.json()["effect"] == "ask"

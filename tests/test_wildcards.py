"""The wildcard matcher: the regex semantics it replaced, without the regex's backtracking,
at a bounded cost; a decision's budget, which only ever makes an answer stricter."""

from __future__ import annotations

import re

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from agentactors.model import Action, Rule
from agentactors.policy import wildcard_match
from agentactors.policy._glob import Piece, compile_glob
from agentactors.policy._rules import MATCH_BUDGET, Budget, evaluate

from .http_helpers import Live

PATHOLOGICAL = "*a*a*a*a*a*a*a*a*b"
ONE_CHARS = "*?" + "a" * 8000 + "b*"
"""A `?` piece: searched by a quantifier-free regex, it cost O(text x pattern)."""
COSTLY = "*?" + "".join(chr(0x4E00 + i) for i in range(5999)) + "*"
"""A piece whose every way of searching 16,000 characters costs more than a budget."""


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


@settings(max_examples=3000, deadline=None)
@given(
    st.text("ab?é", min_size=1, max_size=8).filter(lambda piece: "?" in piece),
    st.text("abcé", max_size=40),
    st.data(),
)
def test_both_searches_of_a_piece_agree_with_a_regex(
    source: str, text: str, data: st.DataObject
) -> None:
    """A piece with `?` between stars: the join and the bit-parallel search (ASCII or
    not) each find the leftmost fit a regex search finds, inside any window."""
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    regex = re.compile("".join("." if c == "?" else re.escape(c) for c in source), re.DOTALL)
    found = regex.search(text, start, end)
    expected = -1 if found is None else found.start()
    piece = Piece.parse(source, searched=True)
    assert piece.bits is not None
    assert piece.find(text, start, end) == expected
    assert piece.join(text, start, end - piece.length, len(text) + 1) == expected
    if end - start >= piece.length:
        assert piece.bits.find(text, start, end) == expected


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        (ONE_CHARS, "a" * 16_000, False),
        (ONE_CHARS, "a" * 16_000 + "b", True),
        (ONE_CHARS, "ab" * 8_000, False),
        ("*" + "a?" * 4_000 + "b*", "ab" * 8_000, False),
        ("*" + "a?" * 4_000 + "b*", "a" * 8_001 + "b", True),
        ("*é?" + "ü" * 3_000 + "*", "é" * 9_000 + "éx" + "ü" * 3_000, True),
    ],
)
def test_long_pieces_with_one_chars_are_answered(pattern: str, text: str, matches: bool) -> None:
    """Long `?` pieces against long periodic texts (the regex took 0.1 s each)."""
    assert wildcard_match(pattern, text) is matches


def test_every_match_states_a_cost_before_it_is_made() -> None:
    """The cost grows with the text, and the costly piece's exceeds a whole budget."""
    compiled = compile_glob(ONE_CHARS)
    assert 0 < compiled.cost("a" * 100) < compiled.cost("a" * 16_000)
    assert compile_glob(COSTLY).cost("a" * 16_000) > Budget().left


def _rule(action: Action, pattern: str) -> Rule:
    return Rule("bash", pattern, action)


@pytest.mark.parametrize(
    ("rules", "units", "expected"),
    [
        ([_rule("allow", "*")], 10**9, ("allow", 0)),
        ([_rule("allow", "*")], 0, ("ask", None)),  # an allow that may match does not
        ([_rule("deny", "x*")], 0, ("deny", 0)),  # a deny that may match denies
        ([_rule("deny", "rm *"), _rule("allow", "*")], 0, ("deny", 0)),
        ([_rule("allow", "*"), _rule("ask", "*")], 0, ("ask", 1)),
        ([_rule("deny", "rm *"), _rule("ask", "*")], 0, ("deny", 0)),
        ([_rule("allow", "*"), _rule("ask", COSTLY)], MATCH_BUDGET, ("ask", 1)),
        ([_rule("deny", "*"), _rule("ask", COSTLY)], MATCH_BUDGET, ("deny", 0)),
        ([_rule("ask", "*"), _rule("allow", COSTLY)], MATCH_BUDGET, ("ask", 0)),
        ([_rule("allow", "*"), _rule("deny", COSTLY)], MATCH_BUDGET, ("deny", 1)),
    ],
)
def test_what_the_budget_cannot_afford_fails_closed(
    rules: list[Rule], units: int, expected: tuple[Action, int | None]
) -> None:
    """A rule the budget cannot tell about: an allow does not match, a deny denies, an
    ask makes the answer at least ask (a deny below still denies)."""
    action, rule = evaluate(rules, "bash", "x" * 16_000, Budget(units))
    assert (action, None if rule is None else rules.index(rule)) == expected


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


async def test_one_char_rules_answer_asks_at_the_caps(live: Live) -> None:
    """Ten session rules with a long `?` piece, five asks of 16,000 characters: answered,
    as the exact matcher answers (none matches); health answers meanwhile."""
    rules = [
        {"permission": "bash", "pattern": ONE_CHARS + str(i), "action": "allow"} for i in range(10)
    ]
    session = await live.session(permission=rules)
    with trio.fail_after(10):
        response = await live.client.post(
            f"/session/{session['id']}/permission",
            json={"permission": "bash", "patterns": ["a" * 16_000 + str(i) for i in range(5)]},
        )
        health = await live.client.get("/global/health")
    assert response.status_code == 200, response.text
    assert response.json()["effect"] == "ask"
    assert health.status_code == 200


async def test_a_saved_one_char_approval_answers_later_asks(live: Live) -> None:
    """An "always" for a long `?` pattern is matched on every later ask: answered, and
    it allows what it covers."""
    ask = [{"permission": "bash", "pattern": "*", "action": "ask"}]
    session = await live.session(permission=ask)
    url = f"/session/{session['id']}/permission"
    with trio.fail_after(10):
        first = await live.client.post(
            url, json={"permission": "bash", "patterns": ["x"], "always": [ONE_CHARS]}
        )
        reply = await live.client.post(
            f"/permission/{first.json()['id']}/reply", json={"reply": "always"}
        )
        assert reply.status_code == 200, reply.text
        long = await live.client.post(
            url, json={"permission": "bash", "patterns": ["a" * 16_000 + str(i) for i in range(5)]}
        )
        covered = await live.client.post(
            url, json={"permission": "bash", "patterns": ["a" * 16_000 + "b"]}
        )
    assert long.json()["effect"] == "ask"
    assert covered.json()["effect"] == "allow"


async def test_a_rule_too_costly_to_match_fails_closed(live: Live) -> None:
    """Through a real server: a deny rule the budget cannot afford denies a long ask, an
    allow rule it cannot afford does not allow one it would match; short asks are
    decided exactly."""
    matching = "a" + COSTLY[2:-1] + "a" * 9_000
    deny = [
        {"permission": "bash", "pattern": "*", "action": "allow"},
        {"permission": "bash", "pattern": COSTLY, "action": "deny"},
    ]
    allow = [
        {"permission": "bash", "pattern": "*", "action": "ask"},
        {"permission": "bash", "pattern": COSTLY, "action": "allow"},
    ]
    effects = []
    with trio.fail_after(10):
        for rules, patterns in [
            (deny, ["a" * 16_000]),
            (deny, ["ls"]),
            (allow, [matching]),
            (allow, ["a" + COSTLY[2:-1]]),
        ]:
            session = await live.session(permission=rules)
            response = await live.client.post(
                f"/session/{session['id']}/permission",
                json={"permission": "bash", "patterns": patterns},
            )
            assert response.status_code == 200, response.text
            effects.append(response.json()["effect"])
    assert wildcard_match(COSTLY, matching)  # exactly, the allow rule matches it
    assert effects == ["deny", "allow", "ask", "allow"]

"""Arbitrary input to the sessions and permission actors: every answer is a result or a
typed :class:`ServiceError`, and no actor ever restarts.

Hypothesis sends the actors' own messages (what HTTP handlers, plugins and the console
send) with directories, titles, rules, kinds, patterns, metadata and project files no
schema has filtered: NUL, relative, missing and huge directories; deep, huge and
non-JSON metadata; huge, many and pathological patterns; project files of random bytes,
bad TOML and unknown keys.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentactors.actors import PERMISSION
from agentactors.actors.messages import AskPermission, CreateSession, UpdateSession
from agentactors.actors.runtime import call, registry
from agentactors.model import MAX_PATTERN, Rule, ServiceError, Session, ToolRef
from agentactors.policy import Config

PROJECT = "agentactors.toml"


@pytest.fixture
def config() -> Config:
    """Project files are read: they are input too."""
    return Config()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The directory whose project file each example rewrites."""
    directory = tmp_path / "project"
    directory.mkdir()
    return directory


def _nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for index in range(depth):
        value = {"a": value} if index % 2 else [value]
    return value


texts = st.text(max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=20,
)
directories = st.one_of(
    st.just("PROJECT"),
    texts,
    st.just("/tmp/a\x00b"),
    st.just("relative/dir"),
    st.just("/nowhere/at/all"),
    st.text(min_size=1, max_size=20).map(lambda t: "/" + t * 400),  # thousands of characters
    st.integers(),
    st.none(),
)
rules = st.lists(
    st.one_of(
        st.builds(
            Rule,
            st.one_of(st.just("bash"), texts),
            st.one_of(st.just("*a*a*a*a*a*a*a*a*b"), st.just("git *"), texts),
            st.sampled_from(["allow", "ask", "deny", "maybe"]),
        ),
        st.just("not a rule"),
    ),
    max_size=5,
)
patterns = st.one_of(
    st.lists(texts, max_size=5),
    st.just(("a" * 60,)),  # against *a*a*a*a*a*a*a*a*b
    st.just(("x",) * 300),
    st.just(("y" * (MAX_PATTERN + 1),)),
    st.just("not a list"),
    st.lists(st.integers(), min_size=1, max_size=2),
)
metadata = st.one_of(
    st.dictionaries(texts, json_values, max_size=5),
    st.integers(0, 3000).map(lambda depth: {"deep": _nested(depth, 1)}),
    st.integers(60_000, 70_000).map(lambda size: {"huge": "z" * size}),
    st.sampled_from(
        [{"nan": math.nan}, {"object": object()}, {"set": {1, 2}}, {"lone": "\ud800"}, [1], None]
    ),
    st.just({"command": "echo hi > agentactors.toml"}),
    st.just({"path": "/etc/../etc/passwd\x00"}),
)
project_files = st.one_of(
    st.none(),
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.sampled_from(
        [
            b'[permission]\nbash = "allow"\n',
            b'[permission]\nbash = "maybe"\n',
            b"[permission\n",
            b"[permision]\nbash = 'allow'\n",
            b"[requests]\ntimeout = 5\n",
            b'plugins = ["evil.py:Evil"]\n',
            b"permission = 3\n",
            b'[permission.bash]\n"*a*a*a*a*a*a*a*a*b" = "deny"\n',
            b"\xff\xfe\x00\x00",
        ]
    ),
)


def _answer(name: str, message: Any) -> Any:
    """The actor's answer, or the ServiceError it answered with (anything else fails)."""
    try:
        return call(name, message, timeout=30)
    except ServiceError as error:
        return error


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    directory=directories,
    title=st.one_of(st.none(), texts, st.integers(), st.text(min_size=1025, max_size=1100)),
    session_rules=rules,
    kind=st.one_of(st.just("bash"), st.just("edit"), texts, st.integers()),
    asked=patterns,
    always=patterns,
    meta=metadata,
    tool=st.one_of(st.none(), st.builds(ToolRef, texts, texts), st.just("a tool")),
    project_file=project_files,
)
def test_every_answer_is_a_result_or_a_service_error(
    services: Any,
    project: Path,
    *,
    directory: Any,
    title: Any,
    session_rules: Any,
    kind: Any,
    asked: Any,
    always: Any,
    meta: Any,
    tool: Any,
    project_file: bytes | None,
) -> None:
    """The permission actor answers arbitrary messages without a crash."""
    target = project / PROJECT
    if project_file is None:
        target.unlink(missing_ok=True)
    else:
        target.write_bytes(project_file)
    where = str(project) if directory == "PROJECT" else directory
    created = _answer(PERMISSION, CreateSession(where, title=title, permission=session_rules))
    session = created if isinstance(created, Session) else _fallback(project)
    _answer(PERMISSION, UpdateSession(session.id, title=title, permission=session_rules))
    _answer(
        PERMISSION, AskPermission(session.id, kind, asked, metadata=meta, always=always, tool=tool)
    )
    assert [(row.name, row.restarts) for row in registry.snapshot() if row.restarts] == []


def _fallback(project: Path) -> Session:
    """A session in the project directory, when the example's own could not be made."""
    session = call(PERMISSION, CreateSession(str(project)))
    assert isinstance(session, Session)
    return session

"""Bad input is an answer, never a crash: hostile input from outside, against a real
server, gets a 4xx naming the problem, and no service restarts.

Each test here began as a reproduction of a way input once crashed a service or was
silently ignored: a project file that does not load, a NUL in a directory, misspelled
config keys, deep or huge metadata, unknown body fields, a whitespace body.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import trio

from agentactors.model import MAX_PATTERN, MAX_PATTERNS, MAX_RULES

from .http_helpers import Live, open_stream, serve_process

ASK = {"permission": "bash", "patterns": ["git status"]}
SERVE = [sys.executable, "-m", "agentactors", "serve", "--port", "0", "--data-dir", ":memory:"]


async def _restarts(client: httpx.AsyncClient) -> dict[str, int]:
    response = await client.get("/debug/actors")
    assert response.status_code == 200
    return {row["name"]: row["restarts"] for row in response.json()}


async def _session(client: httpx.AsyncClient, directory: Path | str) -> str:
    response = await client.post("/session", json={}, params={"directory": str(directory)})
    assert response.status_code == 200, response.text
    return response.json()["id"]  # type: ignore[no-any-return]


async def _ask(client: httpx.AsyncClient, session_id: str, body: Any = None) -> httpx.Response:
    return await client.post(f"/session/{session_id}/permission", json=body or ASK)


def _project(directory: Path, text: str | bytes) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / "agentactors.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


async def test_a_project_file_that_does_not_load_answers_that_ask_and_stops_nothing(
    tmp_path: Path,
) -> None:
    """Asks in a directory whose agentactors.toml does not load get a 400 ConfigError
    naming the file, line and key, as often as they come; other directories carry on;
    fixing the file takes effect at the next ask; the permission service never restarts."""
    async with (
        serve_process(tmp_path, ":memory:") as (_process, url),
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        bad = _project(tmp_path / "bad", '[permission]\nbash = "maybe"\n')
        _project(tmp_path / "good", '[permission]\nbash = "allow"\n')
        bad_session = await _session(client, tmp_path / "bad")
        good_session = await _session(client, tmp_path / "good")
        for _ in range(6):  # more than the supervisor's 4 crashes in 5 s
            response = await _ask(client, bad_session)
            assert response.status_code == 400, response.text
            error = response.json()
            assert error["_tag"] == "ConfigError"
            assert f"{bad}:2: key 'permission.bash'" in error["message"]
            assert error["file"] == str(bad)
            assert error["line"] == 2
            assert error["key"] == "permission.bash"
            good = await _ask(client, good_session)
            assert good.status_code == 200
            assert good.json()["effect"] == "allow"

        failures: dict[str, tuple[str | bytes, str]] = {
            "not TOML": ("[permission\n", ":1: not valid TOML"),
            "not UTF-8": (b'[permission]\nbash = "\xff\xfe"\n', ":2: not UTF-8 text"),
            "random bytes": (os.urandom(64) + b"\x00", "agentactors.toml"),
            "unknown key": ("[permision]\nbash = 'allow'\n", "did you mean 'permission'?"),
            "plugins": ('plugins = ["x.py:X"]\n', "a project file may set [permission] only"),
            "settings": ("[requests]\ntimeout = 1\n", "a project file may set [permission]"),
            "deep": ("x = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
        }
        for name, (text, expected) in failures.items():
            _project(tmp_path / "bad", text)
            response = await _ask(client, bad_session)
            assert response.status_code == 400, (name, response.text)
            assert response.json()["_tag"] == "ConfigError", name
            assert expected in response.json()["message"], (name, response.json())

        (tmp_path / "bad" / "agentactors.toml").unlink()
        os.mkfifo(tmp_path / "bad" / "agentactors.toml")  # opening it must not block
        response = await _ask(client, bad_session)
        assert response.json()["message"].endswith("agentactors.toml: not a regular file")
        assert (await client.get("/global/health")).status_code == 200
        (tmp_path / "bad" / "agentactors.toml").unlink()
        _project(tmp_path / "bad", '[permission]\nbash = "deny"\n')
        fixed = await _ask(client, bad_session)
        assert fixed.status_code == 200
        assert fixed.json()["effect"] == "deny"
        assert set(await _restarts(client)).issuperset({"permission"})
        assert all(count == 0 for count in (await _restarts(client)).values())


async def test_a_directory_with_nul_is_a_400_at_the_edge(live: Live) -> None:
    """A NUL in ?directory= or x-opencode-directory is a 400, as often as it comes."""
    for _ in range(6):
        header = await live.client.post(
            "/session", json={}, headers={"x-opencode-directory": "%2Ftmp%2Fa%00b"}
        )
        assert header.status_code == 400, header.text
        assert "NUL" in header.json()["message"]
        query = await live.client.get("/permission", params={"directory": "/tmp/a\x00b"})
        assert query.status_code == 400, query.text
    relative = await live.client.post("/session", json={}, params={"directory": "tmp/a"})
    assert relative.status_code == 400
    assert "absolute" in relative.json()["message"]
    session_id = (await live.session())["id"]
    assert (await _ask(live.client, session_id)).status_code == 200
    assert all(count == 0 for count in (await _restarts(live.client)).values())


async def test_misspelled_config_keys_stop_serve_with_one_line_naming_the_nearest(
    tmp_path: Path,
) -> None:
    """--config with an unknown table or key: exit 2, one line with the file, line, key
    and the key meant."""
    cases = {
        "[permision]\nbash = 'allow'\n": ":1: key 'permision': unknown key; did you mean "
        "'permission'?",
        "[requests]\ntimout = 5\n": ":2: key 'requests.timout': unknown key; did you mean "
        "'timeout'?",
        "plugin = []\n": ":1: key 'plugin': unknown key; did you mean 'plugins'?",
    }
    for text, expected in cases.items():
        config = tmp_path / "config.toml"
        config.write_text(text, encoding="utf-8")
        environment = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config-home")}
        with trio.fail_after(30):
            result = await trio.run_process(
                [*SERVE, "--config", str(config)],
                capture_stdout=True,
                capture_stderr=True,
                check=False,
                env=environment,
            )
        lines = result.stderr.decode().splitlines()
        assert result.returncode == 2, lines
        assert len(lines) == 1, lines
        assert str(config) + expected in lines[0]


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


async def test_deep_or_huge_metadata_is_a_400_and_streams_go_on(live: Live) -> None:
    """Metadata nested deeper than 64, larger than 64 KB as JSON, or holding a lone
    surrogate is refused with a 400 naming it; an open event stream sees the next ask."""
    session_id = (await live.session())["id"]
    async with open_stream(live, "/global/event") as stream:
        deep = '{"a":' * 974 + "{}" + "}" * 974  # deeper than a client's encoder goes
        for metadata, expected in [
            (deep, "nested more than 64 levels"),
            (json.dumps(_nested(65)), "nested more than 64 levels"),
            (
                json.dumps({"blob": "x" * (64 * 1024)}),
                "metadata is 65547 bytes as JSON; at most 65536",
            ),
        ]:
            body = '{"permission": "bash", "patterns": ["x"], "metadata": ' + metadata + "}"
            response = await live.client.post(f"/session/{session_id}/permission", content=body)
            assert response.status_code == 400, response.text[:200]
            assert expected in response.json()["message"]
        surrogate = b'{"permission": "bash", "patterns": ["x"], "metadata": {"a": "\\ud800"}}'
        response = await live.client.post(f"/session/{session_id}/permission", content=surrogate)
        assert response.status_code == 400
        assert "surrogate" in response.json()["message"]
        fits = {"blob": "x" * (60 * 1024), "deep": _nested(60)}
        asked = await _ask(live.client, session_id, {**ASK, "metadata": fits})
        assert asked.status_code == 200, asked.text[:300]
        message = await stream.next_of("permission.asked")
        assert message.properties["id"] == asked.json()["id"]
    assert all(count == 0 for count in (await _restarts(live.client)).values())


async def test_patterns_and_rules_beyond_their_caps_are_a_400(live: Live) -> None:
    """Too many patterns, a pattern too long, too many session rules: each a 400."""
    session_id = (await live.session())["id"]
    many = await _ask(live.client, session_id, {**ASK, "patterns": ["x"] * (MAX_PATTERNS + 1)})
    assert many.status_code == 400
    assert many.json()["field"] == "patterns"
    long = await _ask(live.client, session_id, {**ASK, "patterns": ["x" * (MAX_PATTERN + 1)]})
    assert long.status_code == 400
    assert long.json()["field"] == "patterns[0]"
    rule = {"permission": "bash", "pattern": "*", "action": "ask"}
    rules = await live.client.post("/session", json={"permission": [rule] * (MAX_RULES + 1)})
    assert rules.status_code == 400
    assert rules.json()["field"] == "permission"
    edge = await _ask(live.client, session_id, {**ASK, "patterns": ["x" * MAX_PATTERN]})
    assert edge.status_code == 200


async def test_native_bodies_refuse_unknown_fields_and_the_reply_checks_its_session(
    live: Live,
) -> None:
    """An unknown field in an ask or a reply is a 400 naming it; a reply naming another
    session is a 404; either way the request stays pending."""
    session_id = (await live.session())["id"]
    other_id = (await live.session())["id"]
    unknown = await _ask(live.client, session_id, {**ASK, "extra": 1})
    assert unknown.status_code == 400
    assert unknown.json()["field"] == "extra"
    tool = {"messageID": "m", "callID": "c", "color": "red"}
    nested = await _ask(live.client, session_id, {**ASK, "tool": tool})
    assert nested.status_code == 400
    assert nested.json()["field"] == "tool.color"

    request_id = (await _ask(live.client, session_id)).json()["id"]
    reply = f"/permission/{request_id}/reply"
    bogus = await live.client.post(reply, json={"reply": "once", "sesionID": session_id})
    assert bogus.status_code == 400
    assert bogus.json()["field"] == "sesionID"
    wrong = await live.client.post(reply, json={"reply": "once", "sessionID": other_id})
    assert wrong.status_code == 404, wrong.text
    state = await live.client.get(f"/permission/{request_id}")
    assert state.json()["state"] == "pending"
    right = await live.client.post(reply, json={"reply": "once", "sessionID": session_id})
    assert right.status_code == 200
    assert right.json() is True


async def test_a_whitespace_body_is_a_400_and_no_body_is_empty(live: Live) -> None:
    """PATCH with a body of whitespace is refused; with no body it changes nothing."""
    session = await live.session()
    path = f"/session/{session['id']}"
    blank = await live.client.patch(path, content=b"  \r\n ")
    assert blank.status_code == 400
    assert "whitespace" in blank.json()["message"]
    empty = await live.client.patch(path, content=b"")
    assert empty.status_code == 200
    assert empty.json()["title"] == session["title"]


async def test_the_documented_bounds_are_the_enforced_ones(live: Live) -> None:
    """/doc states the caps that the server enforces (so clients can know them)."""
    doc = (await live.client.get("/doc")).json()
    ask = doc["components"]["schemas"]["Ask"]
    assert ask["additionalProperties"] is False
    assert ask["properties"]["patterns"]["anyOf"][0]["maxItems"] == MAX_PATTERNS
    history = doc["paths"]["/permission/history"]["get"]["parameters"]
    since = next(p for p in history if p["name"] == "since")
    assert since["schema"]["maximum"] == 2**53 - 1
    too_late = await live.client.get("/permission/history", params={"since": 2**53})
    assert too_late.status_code == 400
    assert json.loads(too_late.text)["field"] == "since"


async def test_a_route_without_a_body_refuses_one(live: Live) -> None:
    """abort, delete and withdraw read no body: a body other than {} is a 400, not a
    silent success; none, or {}, is fine."""
    session_id = (await live.session())["id"]
    request_id = (await _ask(live.client, session_id)).json()["id"]
    for method, path in [
        ("POST", f"/session/{session_id}/abort"),
        ("DELETE", f"/session/{session_id}"),
        ("POST", f"/permission/{request_id}/withdraw"),
    ]:
        for content in (b"not json", b'{"force": true}', b"[]"):
            refused = await live.client.request(method, path, content=content)
            assert refused.status_code == 400, (method, path, content, refused.text)
            assert refused.json()["field"] == "body"
    state = await live.client.get(f"/permission/{request_id}")
    assert state.json()["state"] == "pending"
    assert (await live.client.post(f"/session/{session_id}/abort", json={})).status_code == 200
    assert (await live.client.delete(f"/session/{session_id}")).status_code == 200


async def test_the_directory_in_scope_is_bounded_and_given_once(live: Live) -> None:
    """A directory longer than 4096 characters, or the header given twice, is a 400 that
    names it."""
    long = "/" + "d" * 5000
    query = await live.client.get("/session", params={"directory": long})
    assert query.status_code == 400
    assert query.json()["data"]["kind"] == "Query"
    header = await live.client.get("/session", headers={"x-opencode-directory": long})
    assert header.status_code == 400
    assert header.json()["data"]["kind"] == "Headers"
    twice = await live.client.get(
        "/session", headers=[("x-opencode-directory", "/a"), ("x-opencode-directory", "\x01")]
    )
    assert twice.status_code == 400
    assert "more than once" in twice.json()["message"]

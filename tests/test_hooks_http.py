"""The agents' hook routes against the live server: each decision path (allow, deny
with the rule, ask held then answered over HTTP, the hold running out, always with
Claude's suggestions), one session per agent session, and malformed bodies refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from agentactors.actors import Subscription
from agentactors.http._hooks import Hooks
from agentactors.model import ConfigError, Rule
from agentactors.policy import Config, load_config

from .conftest import next_event, props
from .hook_inputs import (
    CLAUDE_SESSION,
    PATCH,
    SUBAGENT,
    UNKNOWN,
    claude,
    claude_suggestions,
    codex,
    gemini,
)
from .http_helpers import PROJECT, Live

RULES = (
    Rule("bash", "git status", "allow"),
    Rule("bash", "rm *", "deny", source="team.toml"),
    Rule("read", "*", "allow"),
)
SHORT_HOLD = Config(rules_before_project=RULES, read_project_files=False, hook_hold=0.2)


@pytest.fixture
def config() -> Config:
    return Config(rules_before_project=RULES, read_project_files=False)


async def _hook(live: Live, agent: str, body: dict[str, Any]) -> Any:
    response = await live.client.post(f"/hook/{agent}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def _held(
    live: Live, events: Subscription, agent: str, body: dict[str, Any], reply: dict[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """Post a hook that asks; once asked, reply over HTTP; the hook's answer and the
    request as asked."""
    answer: list[Any] = []

    async def post() -> None:
        answer.append(await _hook(live, agent, body))

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(post)
            asked = props(await next_event(events, "permission.asked"))
            assert not answer  # held while pending
            response = await live.client.post(f"/permission/{asked['id']}/reply", json=reply)
            assert response.status_code == 200, response.text
    return answer[0], asked


def _pre(answer: Any) -> tuple[str, str]:
    output = answer["hookSpecificOutput"]
    assert output["hookEventName"] == "PreToolUse"
    return output["permissionDecision"], output["permissionDecisionReason"]


async def test_claude_allowed_by_a_rule(live: Live) -> None:
    """A call a rule allows is allowed at once, the rule named."""
    decision, reason = _pre(await _hook(live, "claude-code", claude("PreToolUse", "Bash")))
    assert decision == "allow"
    assert "git status" in reason


async def test_claude_denied_by_a_rule_with_the_rule_as_reason(live: Live) -> None:
    """A denied call is denied at once; the reason is the rule (the shell analyser saw
    ``rm`` inside the compound command)."""
    body = claude("PreToolUse", "Bash", {"command": "git status && rm -rf build"})
    decision, reason = _pre(await _hook(live, "claude-code", body))
    assert decision == "deny"
    assert reason == "agentactors: denied by rule bash 'rm *' = deny (team.toml)"
    denied = await _hook(
        live, "claude-code", claude("PermissionRequest", "Bash", {"command": "rm -rf /"})
    )
    assert denied["hookSpecificOutput"]["decision"]["behavior"] == "deny"
    assert "rm *" in denied["hookSpecificOutput"]["decision"]["message"]


async def test_claude_ask_held_then_answered_once(live: Live, events: Subscription) -> None:
    """An ask is held until a person answers over HTTP; the request shows the patterns
    the shell analyser derived and who asked."""
    body = claude("PreToolUse", "Bash", {"command": "make deploy && make notify"}, **UNKNOWN)
    answer, asked = await _held(live, events, "claude-code", body, {"reply": "once"})
    assert _pre(answer) == ("allow", "agentactors: allowed by user")
    assert asked["permission"] == "bash"
    assert asked["patterns"] == ["make deploy", "make notify"]
    assert asked["metadata"]["agent"] == "claude-code"
    assert asked["metadata"]["toolUseID"] == body["tool_use_id"]


async def test_a_reject_message_reaches_claude(live: Live, events: Subscription) -> None:
    """A reject's message is the deny's reason (PreToolUse) and message (PermissionRequest)."""
    body = claude("PreToolUse", "Edit")
    answer, asked = await _held(
        live, events, "claude-code", body, {"reply": "reject", "message": "not that file"}
    )
    assert _pre(answer) == ("deny", "not that file")
    assert asked["permission"] == "edit"
    assert f"{PROJECT}/app.py" in asked["patterns"]
    body = claude("PermissionRequest", "Write")
    answer, _ = await _held(
        live, events, "claude-code", body, {"reply": "reject", "message": "ask first"}
    )
    assert answer["hookSpecificOutput"]["decision"] == {
        "behavior": "deny",
        "message": "ask first",
        "interrupt": False,
    }


async def test_always_saves_and_echoes_the_suggestions(live: Live, events: Subscription) -> None:
    """An always on PermissionRequest saves our approval and answers updatedPermissions:
    the suggestions for this tool, for the session; the next same call is allowed."""
    body = claude(
        "PermissionRequest",
        "Bash",
        {"command": "npm test"},
        permission_suggestions=claude_suggestions("Bash", "npm test:*"),
        **SUBAGENT,
    )
    answer, asked = await _held(live, events, "claude-code", body, {"reply": "always"})
    decision = answer["hookSpecificOutput"]["decision"]
    assert decision["behavior"] == "allow"
    assert decision["updatedPermissions"] == [
        {
            "type": "addRules",
            "rules": [{"toolName": "Bash", "ruleContent": "npm test:*"}],
            "behavior": "allow",
            "destination": "session",
        }
    ]
    saved = (await live.client.get("/permission/saved")).json()
    assert [(s["permission"], s["sessionID"]) for s in saved] == [("bash", asked["sessionID"])]
    again = await _hook(live, "claude-code", claude("PreToolUse", "Bash", {"command": "npm test"}))
    assert _pre(again)[0] == "allow"


async def test_always_echoes_no_more_than_it_saved(live: Live, events: Subscription) -> None:
    """An always that saves ``npm run *`` never tells Claude to allow all of Bash, nor
    a wider prefix: only the suggested rules the saved pattern covers."""
    suggestions = [
        {
            "type": "addRules",
            "rules": [{"toolName": "Bash"}],
            "behavior": "allow",
            "destination": "localSettings",
        },
        *claude_suggestions("Bash", "npm:*"),
        *claude_suggestions("Bash", "npm run build:*"),
    ]
    body = claude(
        "PermissionRequest",
        "Bash",
        {"command": "npm run build"},
        permission_suggestions=suggestions,
    )
    answer, asked = await _held(live, events, "claude-code", body, {"reply": "always"})
    assert asked["always"] == ["npm run *"]
    assert answer["hookSpecificOutput"]["decision"]["updatedPermissions"] == [
        {
            "type": "addRules",
            "rules": [{"toolName": "Bash", "ruleContent": "npm run build:*"}],
            "behavior": "allow",
            "destination": "session",
        }
    ]


@pytest.mark.parametrize("config", [SHORT_HOLD])
async def test_the_hold_running_out(live: Live) -> None:
    """Unanswered, PreToolUse answers ask and PermissionRequest nothing (Claude's own
    prompt); the request ends expired."""
    body = claude("PreToolUse", "Bash", {"command": "make deploy"})
    decision, reason = _pre(await _hook(live, "claude-code", body))
    assert (decision, reason) == ("ask", "agentactors: no answer within 0.2 s")
    history = (await live.client.get("/permission/history")).json()
    assert [(r["state"], r["decidedBy"]["kind"]) for r in history] == [("expired", "timeout")]
    other = claude("PermissionRequest", "Bash", {"command": "make release"})
    assert await _hook(live, "claude-code", other) == {}


@pytest.mark.parametrize("config", [SHORT_HOLD])
async def test_the_prompt_after_an_expired_hold_is_not_asked_again(live: Live) -> None:
    """PreToolUse ran out of hold; the same call's PermissionRequest gives no decision at
    once instead of asking (and holding) a second time."""
    await _hook(live, "claude-code", claude("PreToolUse", "Bash", {"command": "make deploy"}))
    prompt = claude("PermissionRequest", "Bash", {"command": "make deploy"})
    assert await _hook(live, "claude-code", prompt) == {}
    history = (await live.client.get("/permission/history")).json()
    assert len(history) == 1


@pytest.mark.parametrize(
    "config",
    [
        Config(
            read_project_files=False,
            hook_hold=0.2,
            hook_pre_tool_use_expired="deny",
            hook_permission_request_expired="deny",
        )
    ],
)
async def test_the_hold_running_out_may_deny(live: Live) -> None:
    """Configured so, both events deny when the hold runs out."""
    pre = await _hook(live, "claude-code", claude("PreToolUse", "Bash", {"command": "a"}))
    assert _pre(pre)[0] == "deny"
    prompt = await _hook(live, "claude-code", claude("PermissionRequest", "Bash", {"command": "b"}))
    assert prompt["hookSpecificOutput"]["decision"]["behavior"] == "deny"
    gemini_answer = await _hook(live, "gemini", gemini("run_shell_command", {"command": "c"}))
    assert gemini_answer["decision"] == "deny"


async def test_one_session_per_agent_session(live: Live) -> None:
    """The agent's session is ours from first sight: same id, same session; its
    directory is the hook's cwd and its title names the agent."""
    for command in ("git status", "git status"):
        await _hook(live, "claude-code", claude("PreToolUse", "Bash", {"command": command}))
    await _hook(
        live, "claude-code", claude("PreToolUse", "Bash", session_id="another", cwd="/work/other")
    )
    sessions = [
        *(await live.client.get("/session")).json(),
        *(await live.client.get("/session", params={"directory": "/work/other"})).json(),
    ]
    assert sorted((s["title"], s["directory"]) for s in sessions) == [
        (f"Claude Code session {CLAUDE_SESSION}", PROJECT),
        ("Claude Code session another", "/work/other"),
    ]
    history = (await live.client.get("/permission/history")).json()
    mine = next(s["id"] for s in sessions if s["directory"] == PROJECT)
    assert [r["sessionID"] for r in history[1:]] == [mine, mine]


async def test_parallel_first_calls_make_one_session(live: Live) -> None:
    """Agents call tools in parallel: the first calls of a new session make one session."""
    async with trio.open_nursery() as nursery:
        for _ in range(8):
            nursery.start_soon(_hook, live, "claude-code", claude("PreToolUse", "Bash"))
    assert len((await live.client.get("/session")).json()) == 1


async def test_a_session_is_found_again_after_a_restart(live: Live) -> None:
    """A server that forgot the pairing (a restart) finds the session by its title."""
    await _hook(live, "claude-code", claude("PreToolUse", "Bash"))
    live.server.app.extensions["agentactors"].hooks = Hooks()  # what a new process knows
    await _hook(live, "claude-code", claude("PreToolUse", "Bash"))
    assert len((await live.client.get("/session")).json()) == 1


def test_hook_settings_load_from_config(tmp_path: Path) -> None:
    """[hooks] sets the hold and what its running out answers; a bad value names the key."""
    good = tmp_path / "good.toml"
    good.write_text('[hooks]\nhold = 30\npre_tool_use_expired = "deny"\n')
    loaded = load_config(good, user_config=False)
    assert (loaded.hook_hold, loaded.hook_pre_tool_use_expired) == (30, "deny")
    assert loaded.hook_permission_request_expired == "none"
    bad = tmp_path / "bad.toml"
    bad.write_text('[hooks]\npermission_request_expired = "ask"\n')
    with pytest.raises(ConfigError, match=r"hooks\.permission_request_expired"):
        load_config(bad, user_config=False)


async def test_a_deleted_session_is_made_again(live: Live) -> None:
    """If a person deletes the agent's session, the next call makes a new one."""
    await _hook(live, "claude-code", claude("PreToolUse", "Bash"))
    first = (await live.client.get("/session")).json()[0]["id"]
    assert (await live.client.delete(f"/session/{first}")).status_code == 200
    assert _pre(await _hook(live, "claude-code", claude("PreToolUse", "Bash")))[0] == "allow"
    sessions = (await live.client.get("/session")).json()
    assert len(sessions) == 1
    assert sessions[0]["id"] != first


async def test_unknown_tools_ask(live: Live, events: Subscription) -> None:
    """An unknown tool asks under its own name; an MCP tool asks as mcp server:tool."""
    _, asked = await _held(
        live, events, "claude-code", claude("PreToolUse", "Agent"), {"reply": "once"}
    )
    assert (asked["permission"], asked["patterns"]) == ("Agent", ["Find the tests"])
    body = claude("PreToolUse", "mcp__github__create_issue")
    _, asked = await _held(live, events, "claude-code", body, {"reply": "once"})
    assert (asked["permission"], asked["patterns"]) == ("mcp", ["github:create_issue"])


async def test_codex_decisions(live: Live, events: Subscription) -> None:
    """Codex: PermissionRequest allows or denies with a message; PreToolUse only denies
    (a rule's allow is no decision there); apply_patch asks to edit its files."""
    allowed = await _hook(
        live, "codex", codex("PermissionRequest", "Bash", {"command": "git status"})
    )
    assert allowed == {
        "hookSpecificOutput": {
            "hookEventName": "PermissionRequest",
            "decision": {"behavior": "allow"},
        }
    }
    assert await _hook(live, "codex", codex("PreToolUse", "Bash", {"command": "git status"})) == {}
    denied = await _hook(live, "codex", codex("PreToolUse", "Bash", {"command": "rm -rf ."}))
    assert denied["hookSpecificOutput"]["permissionDecision"] == "deny"
    body = codex("PermissionRequest", "apply_patch", {"command": ["apply_patch", PATCH]})
    answer, asked = await _held(
        live, events, "codex", body, {"reply": "reject", "message": "no patches today"}
    )
    assert answer["hookSpecificOutput"]["decision"] == {
        "behavior": "deny",
        "message": "no patches today",
    }
    assert asked["permission"] == "edit"
    assert f"{PROJECT}/src/renamed.py" in asked["patterns"]


async def test_gemini_decisions(live: Live, events: Subscription) -> None:
    """Gemini: deny with the rule, allow, and a held ask answered once."""
    denied = await _hook(live, "gemini", gemini("run_shell_command", {"command": "rm -rf ."}))
    assert denied["decision"] == "deny"
    read = await _hook(live, "gemini", gemini("read_file", {"absolute_path": f"{PROJECT}/a"}))
    assert read["decision"] == "allow"
    body = gemini("write_file", {"file_path": "a.txt", "content": "x"}, **UNKNOWN)
    answer, asked = await _held(live, events, "gemini", body, {"reply": "once"})
    assert answer == {"decision": "allow", "reason": "agentactors: allowed by user"}
    assert asked["metadata"]["path"] == f"{PROJECT}/a.txt"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tool_name": None}, "tool_name"),
        ({"tool_input": "ls"}, "tool_input"),
        ({"hook_event_name": "PostToolUse"}, "hook_event_name"),
        ({"cwd": "relative/dir"}, "cwd"),
        ({"session_id": ""}, "session_id"),
    ],
)
async def test_malformed_bodies_are_refused(live: Live, change: dict[str, Any], field: str) -> None:
    """A body the translation cannot use is a 400 naming the field."""
    body = {k: v for k, v in {**claude("PreToolUse", "Bash"), **change}.items() if v is not None}
    response = await live.client.post("/hook/claude-code", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert field in response.json()["message"]


async def test_a_body_that_is_not_json_is_refused(live: Live) -> None:
    """Not JSON: a 400 saying so."""
    response = await live.client.post("/hook/gemini", content=b"{not json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["message"]


@pytest.mark.parametrize("config", [SHORT_HOLD])
async def test_hook_routes_are_documented(live: Live) -> None:
    """/doc lists the three hook routes with their bodies, and real answers (a decision,
    a deny, no decision) match the documented schemas."""
    jsonschema = pytest.importorskip("jsonschema")
    doc = (await live.client.get("/doc")).json()
    calls = [
        ("claude-code", "ClaudeCodeHook", claude("PreToolUse", "Bash", {"command": "rm -r a"})),
        ("claude-code", "ClaudeCodeHook", claude("PermissionRequest", "Bash")),
        ("claude-code", "ClaudeCodeHook", claude("PermissionRequest", "Edit")),
        ("codex", "CodexHook", codex("PreToolUse", "Bash", {"command": "git status"})),
        ("codex", "CodexHook", codex("PermissionRequest", "Bash", {"command": "rm -r a"})),
        ("gemini", "GeminiHook", gemini("run_shell_command", {"command": "make"})),
    ]
    for agent, model, body in calls:
        operation = doc["paths"][f"/hook/{agent}"]["post"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{model}"}
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        validator = jsonschema.Draft202012Validator({**ok, "components": doc["components"]})
        validator.validate(await _hook(live, agent, body))

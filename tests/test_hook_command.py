"""``agentactors hook AGENT``, run as the agents run it (a process, the hook JSON on
stdin) against the live server: it prints the agent's answer and exits 0; without the
server it never allows (no decision, or deny with ``--fail closed``)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

from agentactors.__main__ import main
from agentactors.actors import Subscription
from agentactors.http import Settings
from agentactors.model import Rule
from agentactors.policy import Config

from .conftest import next_event, props
from .hook_inputs import claude, codex, gemini
from .http_helpers import PROJECT, Live

PASSWORD = "hook-password"


@pytest.fixture
def config() -> Config:
    rules = (Rule("bash", "git status", "allow"), Rule("bash", "rm *", "deny"))
    return Config(rules_before_project=rules, read_project_files=False)


@pytest.fixture
def http_settings() -> Settings:
    return Settings(port=0, directory=PROJECT, password=PASSWORD)


async def _run(
    agent: str, body: Any, *options: str, password: str | None = PASSWORD
) -> tuple[int, Any, str]:
    """Run the hook; (exit status, the JSON it printed or None, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTACTORS_")}
    if password is not None:
        env["AGENTACTORS_SERVER_PASSWORD"] = password
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    with trio.fail_after(30):
        done = await trio.run_process(
            [sys.executable, "-m", "agentactors", "hook", agent, *options],
            stdin=data,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
            env=env,
        )
    out = done.stdout.decode().strip()
    return done.returncode, json.loads(out) if out else None, done.stderr.decode()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_allow_and_deny(live: Live) -> None:
    """Claude's command hook prints the same answers as the HTTP hook."""
    status, answer, _ = await _run("claude-code", claude("PreToolUse", "Bash"), "--url", live.url)
    assert status == 0
    assert answer["hookSpecificOutput"]["permissionDecision"] == "allow"
    body = codex("PermissionRequest", "Bash", {"command": "rm -rf /"})
    status, answer, _ = await _run("codex", body, "--url", live.url)
    assert (status, answer["hookSpecificOutput"]["decision"]["behavior"]) == (0, "deny")


async def test_ask_held_then_answered(live: Live, events: Subscription) -> None:
    """The command waits while the request is pending and prints the person's answer."""
    result: list[tuple[int, Any, str]] = []
    body = gemini("run_shell_command", {"command": "make deploy"})

    async def hook() -> None:
        result.append(await _run("gemini", body, "--url", live.url))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(hook)
        asked = props(await next_event(events, "permission.asked", timeout=30))
        reply = {"reply": "reject", "message": "not on a Friday"}
        response = await live.client.post(
            f"/permission/{asked['id']}/reply", json=reply, auth=("agentactors", PASSWORD)
        )
        assert response.status_code == 200
    assert result == [(0, {"decision": "deny", "reason": "not on a Friday"}, "")]


@pytest.mark.parametrize(
    ("agent", "body", "closed"),
    [
        (
            "claude-code",
            claude("PreToolUse", "Bash"),
            {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny"}},
        ),
        (
            "claude-code",
            claude("PermissionRequest", "Bash"),
            {
                "hookSpecificOutput": {
                    "hookEventName": "PermissionRequest",
                    "decision": {"behavior": "deny", "interrupt": False},
                }
            },
        ),
        (
            "codex",
            codex("PermissionRequest", "Bash", {"command": "ls"}),
            {
                "hookSpecificOutput": {
                    "hookEventName": "PermissionRequest",
                    "decision": {"behavior": "deny"},
                }
            },
        ),
        (
            "codex",
            codex("PreToolUse", "Bash", {"command": "ls"}),
            {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny"}},
        ),
        ("gemini", gemini("run_shell_command", {"command": "ls"}), {"decision": "deny"}),
    ],
)
async def test_server_unreachable(agent: str, body: Any, closed: Any) -> None:
    """No server: the agent's own prompt by default (nothing, or Gemini's ask); a deny
    saying why with --fail closed.  Exit 0 either way."""
    url = f"http://127.0.0.1:{_free_port()}"
    status, answer, stderr = await _run(agent, body, "--url", url)
    assert status == 0
    assert "cannot reach" in stderr
    assert answer == (
        {"decision": "ask", "reason": answer["reason"]} if agent == "gemini" else None
    )
    status, answer, _ = await _run(agent, body, "--url", url, "--fail", "closed")
    assert status == 0
    reason = json.dumps(answer)
    assert "cannot reach" in reason
    _drop_reasons(answer)
    assert answer == closed


def _drop_reasons(answer: Any) -> None:
    if isinstance(answer, dict):
        for key in ("reason", "permissionDecisionReason", "message"):
            answer.pop(key, None)
        for value in answer.values():
            _drop_reasons(value)


async def test_a_wrong_password_is_no_decision(live: Live) -> None:
    """The server refusing the hook (401) is like no server: never an allow."""
    body = claude("PreToolUse", "Bash")
    status, answer, stderr = await _run("claude-code", body, "--url", live.url, password="bad")
    assert (status, answer) == (0, None)
    assert "401" in stderr
    _, answer, _ = await _run(
        "claude-code", body, "--url", live.url, "--fail", "closed", password="bad"
    )
    assert answer["hookSpecificOutput"]["permissionDecision"] == "deny"


async def test_input_that_is_not_a_hook(live: Live) -> None:
    """Stdin that is not a hook's JSON: a message on stderr, no decision, exit 0."""
    status, answer, stderr = await _run("claude-code", b"hello", "--url", live.url)
    assert (status, answer) == (0, None)
    assert "not a hook's JSON" in stderr


BAD_URLS = (
    "http://127.0.0.1:99999",
    "http://127.0.0.1:abc",
    "http://[::1",
    "not a url",
    "ftp://127.0.0.1:4096",
    "http://127.0.0.1:4096/?q=1#frag",
    "http://user:secret@127.0.0.1:4096",
)


@pytest.mark.parametrize("url", BAD_URLS)
async def test_a_bad_url_is_no_decision(url: str) -> None:
    """A --url that cannot name a server is like no server: one line on stderr, exit 0,
    no decision (or deny with --fail closed); never a traceback."""
    body = claude("PreToolUse", "Bash")
    status, answer, stderr = await _run("claude-code", body, "--url", url)
    assert (status, answer) == (0, None)
    assert stderr.startswith("agentactors hook claude-code: --url ")
    assert stderr.count("\n") == 1
    status, answer, _ = await _run("claude-code", body, "--url", url, "--fail", "closed")
    assert status == 0
    assert answer["hookSpecificOutput"]["permissionDecision"] == "deny"


@pytest.mark.parametrize("stdin", [b"", b"hello", b"[1, 2]", b'{"no": "event"}', b"\xff"])
async def test_input_that_is_not_a_hook_fails_closed(stdin: bytes) -> None:
    """Closed means closed: stdin that is not a hook's JSON is denied (as the agent's
    first event), with a note on stderr; exit 0."""
    url = f"http://127.0.0.1:{_free_port()}"
    status, answer, stderr = await _run("claude-code", stdin, "--url", url, "--fail", "closed")
    assert status == 0
    assert "not a hook's JSON" in stderr
    assert answer["hookSpecificOutput"]["hookEventName"] == "PreToolUse"
    assert answer["hookSpecificOutput"]["permissionDecision"] == "deny"
    status, answer, _ = await _run("gemini", stdin, "--url", url, "--fail", "closed")
    assert (status, answer["decision"]) == (0, "deny")
    assert await _run("codex", stdin, "--url", url) == (
        0,
        None,
        stderr.replace("claude-code", "codex"),
    )


async def test_a_body_too_large_is_reported_as_such(live: Live) -> None:
    """The server refusing a body too large (413) is said as such, not as an
    unreachable server, and gets the fail mode."""
    body = claude("PreToolUse", "Bash", {"command": "echo " + "x" * (32 << 20)})
    status, answer, stderr = await _run("claude-code", body, "--url", live.url)
    assert (status, answer) == (0, None)
    assert "answered 413" in stderr
    assert "cannot reach" not in stderr
    status, answer, _ = await _run("claude-code", body, "--url", live.url, "--fail", "closed")
    assert status == 0
    assert answer["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "413" in answer["hookSpecificOutput"]["permissionDecisionReason"]


def test_the_hook_command_loads_no_actors() -> None:
    """The hook starts for every tool call: it imports neither the actors, trio nor the
    HTTP stack."""
    probe = (
        "import io, sys\n"
        'sys.stdin = io.TextIOWrapper(io.BytesIO(b\'{"hook_event_name": "PreToolUse"}\'))\n'
        "from agentactors.__main__ import main\n"
        "main(['hook', 'codex', '--url', 'http://127.0.0.1:9'])\n"
        "heavy = ('trio', 'quart', 'hypercorn', 'pykka', 'httpx', 'msgspec')\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in heavy\n"
        "             or n.startswith(('agentactors.actors', 'agentactors.model'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=30
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


async def test_the_installed_command_answers(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command ``install codex`` writes, run by a shell as Codex runs it, reaches the
    server and prints the answer."""
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["install", "codex", "--url", live.url]) == 0
    settings = json.loads((tmp_path / ".codex" / "hooks.json").read_text())
    command = settings["hooks"]["PermissionRequest"][0]["hooks"][0]["command"]
    body = json.dumps(codex("PermissionRequest", "Bash", {"command": "rm -rf /"})).encode()
    env = {**os.environ, "AGENTACTORS_SERVER_PASSWORD": PASSWORD}
    with trio.fail_after(30):
        done = await trio.run_process(command, shell=True, stdin=body, capture_stdout=True,
                                      env=env)  # fmt: skip
    answer = json.loads(done.stdout)
    assert answer["hookSpecificOutput"]["decision"]["behavior"] == "deny"

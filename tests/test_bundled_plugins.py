"""The bundled plugins: auto-approve (policy) and webhook (against a real HTTP server)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import trio

from agentactors.actors import api
from agentactors.actors._lifecycle import RunningServices
from agentactors.model import Rule
from agentactors.plugins import PluginSpec, start_plugins
from agentactors.plugins.auto_approve import AutoApprove
from agentactors.plugins.webhook import Webhook
from agentactors.policy import Config


@pytest.fixture
def config() -> Config:
    rules = (Rule("bash", "*", "ask"), Rule("bash", "git push *", "deny"))
    return Config(rules_before_project=rules, read_project_files=False)


def start(plugin: type[Any], options: dict[str, Any]) -> None:
    start_plugins([], "/nowhere", extra=[PluginSpec("bundled", options, plugin)])


async def test_auto_approve_covers_child_sessions(services: RunningServices) -> None:
    """Matching asks in the session and its children pass; others still ask."""
    parent = await api.create_session("/p")
    child = await api.create_session("/p", parent_id=parent.id)
    stranger = await api.create_session("/p")
    start(AutoApprove, {"rules": [{"permission": "bash", "pattern": "git *"}],
                        "sessions": [parent.id]})  # fmt: skip
    with trio.fail_after(10):
        allowed = await api.ask(child.id, "bash", metadata={"command": "git status"})
        assert allowed.effect == "allow"
        assert allowed.decided_by is not None
        assert allowed.decided_by.name == "auto-approve"
        assert (await api.ask(stranger.id, "bash", ["git status"])).effect == "ask"
        assert (await api.ask(child.id, "bash", ["make"])).effect == "ask"
        # a configured deny is never reached by the plugin
        assert (await api.ask(child.id, "bash", ["git push origin"])).effect == "deny"
        # an opaque command is never auto-approved
        opaque = await api.ask(child.id, "bash", metadata={"command": "git $(x)"})
        assert opaque.effect == "ask"


async def test_auto_approve_is_time_boxed(services: RunningServices) -> None:
    """Past its time box the plugin decides nothing."""
    session = await api.create_session("/p")
    start(AutoApprove, {"rules": [{"permission": "bash"}], "until": time.time() - 1})
    with trio.fail_after(10):
        assert (await api.ask(session.id, "bash", ["ls"])).effect == "ask"


class Hook(BaseHTTPRequestHandler):
    """Fails the first delivery with 500, accepts the rest."""

    received: ClassVar[list[dict[str, Any]]] = []
    attempts: ClassVar[int] = 0
    delivered = threading.Event()

    def do_POST(self) -> None:
        Hook.attempts += 1
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if Hook.attempts == 1:
            self.send_response(500)
        else:
            Hook.received.append(body)
            self.send_response(204)
            Hook.delivered.set()
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def hook_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


async def test_webhook_posts_asked_events_with_retry(
    services: RunningServices, hook_url: str
) -> None:
    """permission.asked reaches the endpoint; a 500 is retried."""
    start(Webhook, {"url": hook_url, "backoff": 0.01, "retries": 2})
    session = await api.create_session("/p")
    asked = await api.ask(session.id, "bash", ["make deploy"])
    assert await trio.to_thread.run_sync(Hook.delivered.wait, 10)
    assert Hook.attempts == 2
    (body,) = Hook.received
    assert body["type"] == "permission.asked"
    assert body["properties"]["id"] == asked.id
    assert body["directory"] == "/p"

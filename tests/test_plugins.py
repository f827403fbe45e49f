"""Plugins as supervised actors: events, replies through the client, policy, crashes."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import trio

from agentactors.actors import BUS, PERMISSION, Subscription, api, make_event
from agentactors.actors._lifecycle import RunningServices
from agentactors.actors.messages import Publish
from agentactors.actors.runtime import Crash, acall, registry, snapshot
from agentactors.model import Event, PermissionRequest, ServiceCrashed
from agentactors.plugins import PLUGINS, Loaded, Plugin, PluginSpec, start_plugins

from .conftest import next_event


def start(*classes: type[Plugin], timeout: float = 5.0) -> Loaded:
    return start_plugins(
        [], "/nonexistent", extra=[PluginSpec(c.__name__, plugin_class=c) for c in classes],
        policy_timeout=timeout,
    )  # fmt: skip


class Approver(Plugin):
    """Replies once to every asked request whose pattern starts with "safe"."""

    events = ("permission.asked",)

    def on_event(self, event: Event) -> None:
        if event.properties["patterns"][0].startswith("safe"):
            self.client.reply(event.properties["id"], "once")


async def test_a_plugin_reply_releases_the_asker(services: RunningServices) -> None:
    """permission.asked -> plugin replies through self.client -> the asker is released."""
    start(Approver)
    session = await api.create_session("/p")
    with trio.fail_after(10):
        final = await api.ask_and_wait(session.id, "bash", ["safe thing"])
    assert final.reply == "once"
    assert final.decided_by is not None
    assert (final.decided_by.kind, final.decided_by.name) == ("plugin", "approver")


class StartsWithACall(Plugin):
    """Uses its client while starting: must not deadlock."""

    def on_start(self) -> None:
        self.client.create_session("/from-plugin", title="made in on_start")


async def test_a_plugin_may_call_its_client_in_on_start(
    services: RunningServices, events: Subscription
) -> None:
    """on_start calling the client completes (no deadlock) and the session exists."""
    loaded = start(StartsWithACall)
    assert loaded.started == ("plugin:starts-with-a-call",)
    created = await next_event(events, "session.created")
    session = await api.get_session(created.properties["sessionID"])
    assert session.title == "made in on_start"


class Explodes(Plugin):
    events = ("tick",)

    def on_event(self, event: Event) -> None:
        raise RuntimeError(f"cannot handle {event.id}")


async def test_a_crashing_plugin_harms_nobody(services: RunningServices) -> None:
    """1,000 events into a plugin that raises on each: bus and permission keep answering,
    the plugin's restarts are counted, and past its limit it is stopped with a reason."""
    start(Explodes)
    session = await api.create_session("/p")
    probe = await api.subscribe(["tick"])
    for n in range(1000):
        await acall(BUS, Publish(make_event("tick", {"n": n})))
        if n % 100 == 0:
            asked = await api.ask(session.id, "bash", ["make"])
            assert asked.pending
    with trio.fail_after(10):
        for _ in range(1000):
            await probe.receive()
    row = next(r for r in snapshot() if r.name == "plugin:explodes")
    assert row.restarts >= 1
    assert len(await api.list_pending()) == 10


class Policy(Plugin):
    def check_permission(self, request: PermissionRequest) -> Any:
        pattern = request.patterns[0]
        if pattern == "allow me":
            return "allow"
        if pattern == "deny me":
            return ("deny", "policy says no")
        if pattern == "raise":
            raise RuntimeError("broken policy")
        if pattern == "slow":
            Policy.release.wait(10)
        return None

    release = threading.Event()


@pytest.mark.parametrize(
    ("pattern", "state", "reply", "decider", "message"),
    [
        ("allow me", "replied", "once", ("plugin", "policy"), None),
        ("deny me", "replied", "reject", ("plugin", "policy"), "policy says no"),
        ("raise", "pending", None, None, None),
        ("no opinion", "pending", None, None, None),
        ("slow", "pending", None, None, None),
    ],
)
async def test_policy_hook(
    *,
    services: RunningServices,
    pattern: str,
    state: str,
    reply: str | None,
    decider: tuple[str, str] | None,
    message: str | None,
) -> None:
    """allow / deny with reason decide; raising, no opinion or timing out leave it asked."""
    Policy.release.clear()
    start(Policy, timeout=0.2)
    session = await api.create_session("/p")
    try:
        with trio.fail_after(10):
            asked = await api.ask(session.id, "bash", [pattern])
    finally:
        Policy.release.set()
    request = asked
    assert request.state == state
    assert request.reply == reply
    by = request.decided_by
    assert ((by.kind, by.name) if by else None) == decider
    assert request.message == message


async def test_a_stopped_host_stops_its_plugins(services: RunningServices) -> None:
    """Stopping the plugin host stops the plugin actors it started."""
    start(Approver)
    registry.stop(PLUGINS)
    assert "plugin:approver" not in registry.names()


async def test_policy_registrations_survive_a_permission_crash(services: RunningServices) -> None:
    """After permission crash-restarts, the policy plugins still see every ask."""
    start(Policy)
    with pytest.raises(ServiceCrashed):
        await acall(PERMISSION, Crash("chaos"))
    session = await api.create_session("/p")
    with trio.fail_after(10):
        asked = await api.ask(session.id, "bash", ["allow me"])
    assert asked.effect == "allow"
    assert asked.decided_by is not None
    assert asked.decided_by.kind == "plugin"

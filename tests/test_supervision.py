"""Crashes, restarts, intensity limits, timeouts, dead actors: never a hang."""

from __future__ import annotations

import threading

import attrs
import pykka
import pytest

from agentactors.actors.runtime import (
    Request,
    RestartPolicy,
    Service,
    call,
    handles,
    lookup,
    post,
    registry,
    snapshot,
    start_singleton,
)
from agentactors.actors.runtime._registry import ActorInfo
from agentactors.model import (
    BlockingCallError,
    CallTimeout,
    NotRunning,
    ServiceCrashed,
    ServiceRestarting,
)

from .service_helpers import Block, Blocks, Boom, Whoami, assert_busy_actor_times_out_trio


@attrs.frozen
class CallPeer(Request[object]):
    name: str


class Fragile(Blocks, Service):
    @handles(Boom)
    def _boom(self, _: Boom) -> None:
        raise RuntimeError("kaboom")

    @handles(Whoami)
    def _whoami(self, _: Whoami) -> str:
        return self.actor_urn

    @handles(CallPeer)
    def _call_peer(self, message: CallPeer) -> object:
        return call(message.name, Whoami())


def row(name: str) -> ActorInfo:
    return next(r for r in snapshot() if r.name == name)


def test_crash_restarts_under_the_same_name() -> None:
    """A crashing handler: caller gets ServiceCrashed; the name reaches a new actor."""
    start_singleton("fragile", Fragile, restart=RestartPolicy(max_restarts=3, within=60))
    before = call("fragile", Whoami())
    with pytest.raises(ServiceCrashed, match="kaboom"):
        call("fragile", Boom())
    after = call("fragile", Whoami())
    assert after != before
    info = row("fragile")
    assert info.restarts == 1
    assert info.alive
    assert info.messages_handled == 3


def test_past_the_intensity_limit_it_stops_with_a_reason() -> None:
    """More than max_restarts crashes within the window: stopped, and lookups say why."""
    start_singleton("fragile", Fragile, restart=RestartPolicy(max_restarts=2, within=60))
    for _ in range(3):
        with pytest.raises(ServiceCrashed):
            call("fragile", Boom())
    info = row("fragile")
    assert info.status == "stopped"
    assert not info.alive
    assert "gave up after 3 crashes" in (info.reason or "")
    with pytest.raises(NotRunning, match="gave up"):
        call("fragile", Whoami())


def test_messages_queued_behind_a_crash_fail_fast() -> None:
    """Messages waiting in the crashed actor's inbox get ServiceRestarting, not silence."""
    start_singleton("fragile", Fragile, restart=RestartPolicy(max_restarts=5, within=60))
    release, entered = threading.Event(), threading.Event()
    blocker = post("fragile", Block(release, entered))
    assert entered.wait(5)
    crash = post("fragile", Boom())
    queued = [post("fragile", Whoami()) for _ in range(10)]
    release.set()
    assert blocker.get(timeout=5) == "released"
    with pytest.raises(ServiceCrashed):
        crash.get(timeout=5)
    for future in queued:
        with pytest.raises(ServiceRestarting):
            future.get(timeout=5)


def test_a_stuck_actor_times_out_the_caller() -> None:
    """A handler that never returns: the blocking caller gets CallTimeout."""
    start_singleton("stuck", Fragile)
    release, entered = threading.Event(), threading.Event()
    post("stuck", Block(release, entered))
    assert entered.wait(5)
    try:
        with pytest.raises(CallTimeout, match="'stuck'"):
            call("stuck", Whoami(), timeout=0.05)
    finally:
        release.set()


async def test_a_stuck_actor_times_out_the_trio_caller() -> None:
    """The same from trio: CallTimeout, and the event loop was never blocked."""
    start_singleton("stuck", Fragile)
    await assert_busy_actor_times_out_trio("stuck")


def test_a_stopped_actor_refuses_at_once() -> None:
    """A message to a stopped actor is refused at once, never a hang: by name
    (NotRunning), and through a ref kept from before (pykka's ActorDeadError)."""
    start_singleton("gone", Fragile)
    ref = lookup("gone")
    registry.stop("gone")
    with pytest.raises(pykka.ActorDeadError):
        ref.ask(Whoami(), block=False).get(timeout=1)
    with pytest.raises(NotRunning):
        call("gone", Whoami())


def test_a_service_may_not_block_on_another() -> None:
    """A blocking call from a service thread is refused: a bug, so a crash, not a hang."""
    start_singleton("a", Fragile)
    start_singleton("b", Fragile)
    with pytest.raises(ServiceCrashed) as info:
        call("a", CallPeer("b"))
    assert isinstance(info.value.cause, BlockingCallError)
    assert call("a", Whoami())  # restarted and answering
    assert row("a").restarts == 1

"""What the runtime relies on in pykka, each guarded here (pyproject pins pykka to the
major version these pass on).

The runtime uses pykka's public API (``Actor.start``, ``ActorRef.tell``/``ask``/``stop``,
``on_start``/``on_stop``/``on_receive``) and the two hooks pykka documents for the
implementers of actor types: ``_create_actor_inbox`` and ``_create_future``.
"""

from __future__ import annotations

import threading
import time
from typing import ClassVar

import attrs
import pykka
import pytest

from agentactors.actors.runtime import (
    BridgeFuture,
    Request,
    RestartPolicy,
    Service,
    acall,
    call,
    handles,
    lookup,
    registry,
    snapshot,
    start_singleton,
)
from agentactors.actors.runtime._inbox import Inbox
from agentactors.model import ServiceCrashed, ServiceRestarting

from .service_helpers import Boom, Whoami


@attrs.frozen
class Note:
    """A notice (told, never answered)."""

    text: str


@attrs.frozen
class Kick(Request[bool]):
    """Defer setting ``kicked`` to the idle point; answer whether it is set yet."""

    kicked: threading.Event = attrs.field(eq=False)


class Probe(Service):
    def __init__(self) -> None:
        super().__init__()
        self.notes: list[str] = []
        self.setup_thread: int | None = None

    def setup(self) -> None:
        self.setup_thread = threading.get_ident()

    @handles(Whoami)
    def _whoami(self, _: Whoami) -> str:
        return self.actor_urn

    @handles(Note)
    def _note(self, message: Note) -> None:
        self.notes.append(message.text)

    @handles(Boom)
    def _boom(self, _: Boom) -> None:
        raise RuntimeError("kaboom")

    @handles(Kick)
    def _on_kick(self, message: Kick) -> bool:
        self.defer(message.kicked.set)
        return message.kicked.is_set()


def test_create_future_makes_asks_return_the_runtime_future() -> None:
    """``ActorRef.ask`` builds its future with the actor type's ``_create_future``: the
    runtime's, with the done-callbacks trio waits on."""
    ref = start_singleton("probe", Probe)
    future = ref.ask(Whoami(), block=False)
    assert isinstance(future, BridgeFuture)
    seen: list[object] = []
    future.add_done_callback(seen.append)
    assert future.get(timeout=2) == ref.actor_urn
    assert seen == [future]


def test_create_actor_inbox_gives_the_loop_the_runtime_inbox() -> None:
    """pykka's loop reads the inbox ``_create_actor_inbox`` made, with ``tell``, ``ask``
    and its own stop going through it."""
    ref = start_singleton("probe", Probe)
    actor = registry.resolve("probe")
    assert isinstance(actor, Probe)
    assert isinstance(actor.actor_inbox, Inbox)
    ref.tell(Note("hello"))
    assert ref.ask(Whoami(), block=False).get(timeout=2) == ref.actor_urn
    assert actor.notes == ["hello"]
    ref.stop(block=True, timeout=2)
    assert not ref.is_alive()


async def test_the_idle_point_runs_when_the_loop_finds_the_inbox_empty() -> None:
    """The loop asks the inbox for mail once it has handled what it had: the idle point
    (where deferred wake-ups run) comes after the handler and before the trio caller is
    woken."""
    start_singleton("probe", Probe)
    kicked = threading.Event()
    assert await acall("probe", Kick(kicked)) is False  # not during the handler
    assert kicked.is_set()  # but before this caller was woken


class BlocksInTeardown(Probe):
    """Its teardown (after a crash: the inbox is closed, the actor still alive) holds
    until the test releases it."""

    release = threading.Event()
    entered = threading.Event()

    def teardown(self) -> None:
        if self.crash is not None:
            type(self).entered.set()
            type(self).release.wait(10)


def test_an_error_from_the_inbox_reaches_the_sender_of_tell_and_ask() -> None:
    """A closed inbox raises from ``put``; pykka's ``ActorRef.tell`` and ``ask`` let it
    reach the sender, so a message is refused at once, never left unread."""
    BlocksInTeardown.release.clear()
    BlocksInTeardown.entered.clear()
    start_singleton("probe", BlocksInTeardown, restart=RestartPolicy(max_restarts=3, within=60))
    ref = lookup("probe")
    crash = ref.ask(Boom(), block=False)
    try:
        assert BlocksInTeardown.entered.wait(5)
        assert ref.is_alive()
        with pytest.raises(ServiceRestarting):
            ref.tell(Note("too late"))
        with pytest.raises(ServiceRestarting):
            ref.ask(Whoami(), block=False)
    finally:
        BlocksInTeardown.release.set()
    with pytest.raises(ServiceCrashed):
        crash.get(timeout=5)
    assert call("probe", Whoami()) != ref.actor_urn  # restarted under the name


class StartsBadly(Probe):
    """Overrides pykka's ``on_start``: it runs after ``setup``, in the actor's thread,
    and raises on its first incarnation."""

    starts: ClassVar[list[int]] = []
    again = threading.Event()

    def on_start(self) -> None:
        assert self.setup_thread == threading.get_ident()
        type(self).starts.append(threading.get_ident())
        if len(type(self).starts) == 1:
            raise RuntimeError("bad options")
        type(self).again.set()


def test_a_subclass_on_start_runs_after_setup_and_raising_is_a_crash() -> None:
    """pykka calls ``on_start`` in the actor's thread before any message; the runtime
    frames a subclass's: after ``setup``, and an exception is a crash the supervisor
    restarts (pykka alone would stop the actor for good)."""
    StartsBadly.starts.clear()
    StartsBadly.again.clear()
    start_singleton("probe", StartsBadly, restart=RestartPolicy(max_restarts=3, within=60))
    assert StartsBadly.again.wait(5)
    assert _call_once_running("probe", Whoami())  # on_start returns before the name is live
    assert len(StartsBadly.starts) == 2
    assert next(r for r in snapshot() if r.name == "probe").restarts == 1


def _call_once_running(name: str, message: Whoami, timeout: float = 5.0) -> object:
    """``call``, retried while the supervisor finishes a restart (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call(name, message)
        except ServiceRestarting:
            if time.monotonic() > deadline:
                raise
            threading.Event().wait(0.005)  # the restart completes in the supervisor's thread


def test_pykka_is_the_version_this_runtime_was_checked_against() -> None:
    """The hooks above are documented for implementers of actor types; a new major
    version may change them."""
    from importlib.metadata import version

    assert version("pykka").split(".")[0] == "4"
    assert hasattr(pykka.ThreadingActor, "_create_actor_inbox")
    assert hasattr(pykka.ThreadingActor, "_create_future")

"""The named-singleton registry: atomic start, lookup, snapshot, pykka hooks."""

from __future__ import annotations

import threading
from typing import Any

import attrs
import pykka
import pytest

from agentactors.actors.runtime import (
    Request,
    Service,
    call,
    handles,
    lookup,
    registry,
    snapshot,
    start_singleton,
)
from agentactors.model import AlreadyStarted, NotRunning


@attrs.frozen
class Whoami(Request[str]):
    pass


class Counter(Service):
    @handles(Whoami)
    def _whoami(self, _: Whoami) -> str:
        return self.actor_urn


def contend(
    name: str,
    barrier: threading.Barrier,
    lock: threading.Lock,
    started: list[Any],
    refused: list[AlreadyStarted],
) -> None:
    barrier.wait()
    try:
        ref = start_singleton(name, Counter)
    except AlreadyStarted as exc:
        with lock:
            refused.append(exc)
    else:
        with lock:
            started.append(ref)


def test_start_singleton_race_yields_exactly_one_actor() -> None:
    """100 threads released at once on one name: one actor, 99 AlreadyStarted, each round."""
    for round_ in range(30):
        name = f"race-{round_}"
        barrier = threading.Barrier(100)
        started: list[Any] = []
        refused: list[AlreadyStarted] = []
        lock = threading.Lock()

        threads = [
            threading.Thread(target=contend, args=(name, barrier, lock, started, refused))
            for _ in range(100)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(started) == 1
        assert len(refused) == 99
        assert all(exc.ref is started[0] for exc in refused)
        assert [row.name for row in snapshot()].count(name) == 1
        # and callers by name all reach that one actor
        assert call(name, Whoami()) == started[0].actor_urn
    live = [a for a in pykka.ActorRegistry.get_all() if isinstance(a.actor_class, type)]
    assert len([a for a in live if a.actor_class is Counter]) == 30


def test_already_started_names_the_live_actor() -> None:
    """A taken name refuses a second start and starts nothing."""
    ref = start_singleton("one", Counter)
    before = len(pykka.ActorRegistry.get_all())
    with pytest.raises(AlreadyStarted) as info:
        start_singleton("one", Counter)
    assert info.value.ref is ref
    assert info.value.name == "one"
    assert len(pykka.ActorRegistry.get_all()) == before


def test_lookup_unknown_name_raises_not_running() -> None:
    """lookup of a name nobody holds says which name."""
    with pytest.raises(NotRunning, match="'ghost'"):
        lookup("ghost")


def test_stopped_name_can_be_started_again() -> None:
    """stop frees the name; a later start succeeds and calls reach the new actor."""
    first = start_singleton("svc", Counter)
    registry.stop("svc")
    with pytest.raises(NotRunning):
        call("svc", Whoami())
    second = start_singleton("svc", Counter)
    assert second is not first
    assert call("svc", Whoami()) == second.actor_urn


def test_snapshot_lists_every_named_actor() -> None:
    """snapshot: name, class, alive, mailbox depth, handled, restarts, start time."""
    start_singleton("a", Counter)
    start_singleton("b", Counter)
    call("a", Whoami())
    call("a", Whoami())
    rows = {row.name: row for row in snapshot()}
    assert set(rows) == {"a", "b"}
    assert rows["a"].alive
    assert rows["a"].messages_handled == 2
    assert rows["a"].mailbox_depth == 0
    assert rows["a"].restarts == 0
    assert rows["a"].actor_class.endswith("Counter")
    assert rows["b"].started_at >= rows["a"].started_at


def test_only_services_can_be_registered() -> None:
    """A plain pykka actor has no supervision hooks and is refused."""

    class Plain(pykka.ThreadingActor):
        pass

    with pytest.raises(TypeError):
        start_singleton("plain", Plain)  # type: ignore[type-var]

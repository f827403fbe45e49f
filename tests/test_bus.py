"""The bus: filters, bounded buffers with bus.lagged, isolation of bad subscribers."""

from __future__ import annotations

import threading

import pytest
import trio

from agentactors.actors import BUS, LAGGED, Closed, Subscription, api, make_event, subscribe_now
from agentactors.actors._lifecycle import RunningServices
from agentactors.actors.bus import Publish, Since, Subscribe, publish
from agentactors.actors.runtime import acall


async def published(subscription: Subscription, count: int) -> list[str]:
    with trio.fail_after(5):
        return [(await subscription.receive()).type for _ in range(count)]


async def test_type_filters(services: RunningServices) -> None:
    """A subscriber sees only the types it asked for, in publish order."""
    only_b = await api.subscribe(["b"])
    everything = await api.subscribe()
    for type_ in ["a", "b", "c", "b"]:
        publish(type_, {})
    assert await published(everything, 4) == ["a", "b", "c", "b"]
    assert await published(only_b, 2) == ["b", "b"]
    assert only_b.get_nowait() is None


async def test_directory_filter(services: RunningServices) -> None:
    """A directory-scoped subscriber sees that directory's events and global ones."""
    scoped = await api.subscribe(directory="/p")
    publish("x", {"n": 1}, "/p")
    publish("x", {"n": 2}, "/q")
    publish("x", {"n": 3}, None)
    with trio.fail_after(5):
        seen = [(await scoped.receive()).properties["n"] for _ in range(2)]
    assert seen == [1, 3]


async def test_a_slow_subscriber_lags_and_loses_the_oldest(services: RunningServices) -> None:
    """A full buffer drops the oldest events; the reader is told with bus.lagged."""
    slow = await api.subscribe(["tick"], maxlen=10)
    fast = await api.subscribe(["tick"])
    for n in range(25):
        publish("tick", {"n": n})
    with trio.fail_after(5):
        assert [(await fast.receive()).properties["n"] for _ in range(25)] == list(range(25))
    lagged = await slow.receive()
    assert lagged.type == LAGGED
    assert lagged.properties == {"dropped": 15}
    assert [(await slow.receive()).properties["n"] for _ in range(10)] == list(range(15, 25))
    assert slow.backlog() == 0


def test_a_subscriber_capped_in_bytes_drops_the_oldest_and_counts_what_it_holds() -> None:
    """With a byte cap, the oldest events go while the bytes held (buffered, plus taken
    and not released) pass it; the newest is always kept; bus.lagged says how many."""
    sub = Subscription(max_bytes=100, weigh=lambda event: int(event.properties["size"]))
    for n in range(5):
        sub.offer(make_event("x", {"n": n, "size": 30}))
    assert (sub.held_bytes, sub.backlog(), sub.dropped_total) == (90, 3, 2)
    assert sub.get_nowait().properties == {"dropped": 2}  # type: ignore[union-attr]
    assert sub.get_nowait().properties["n"] == 2  # type: ignore[union-attr]
    assert sub.held_bytes == 90  # taken, not yet released: still held
    sub.offer(make_event("x", {"n": 5, "size": 30}))  # 120 > 100: the oldest buffered goes
    assert (sub.held_bytes, sub.backlog(), sub.dropped_total) == (90, 2, 3)
    sub.release()
    assert sub.held_bytes == 60
    sub.offer(make_event("x", {"n": 6, "size": 500}))  # larger than the cap: kept alone
    assert (sub.held_bytes, sub.backlog(), sub.peak_bytes) == (500, 1, 500)
    assert sub.get_nowait().properties == {"dropped": 3}  # type: ignore[union-attr]
    assert sub.get_nowait().properties["n"] == 6  # type: ignore[union-attr]


async def test_a_subscriber_that_raises_harms_no_one(services: RunningServices) -> None:
    """A subscription whose notify callback raises: the bus and others carry on."""

    def explode() -> None:
        raise RuntimeError("bad subscriber")

    bad = Subscription(notify=explode)
    await acall(BUS, Subscribe(bad))
    good = await api.subscribe()
    publish("x", {})
    publish("y", {})
    assert await published(good, 2) == ["x", "y"]
    assert bad.backlog() == 2
    assert [r for r in services.names if r == BUS]


def test_thread_readers_block_with_timeout(services: RunningServices) -> None:
    """A plain thread can read a subscription with a timeout."""
    subscription = Subscription()
    trio.run(acall, BUS, Subscribe(subscription))
    assert subscription.get(timeout=0.01) is None
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(subscription.get(timeout=5).type))  # type: ignore[union-attr]
    reader.start()
    publish("hello", {})
    reader.join(5)
    assert got == ["hello"]


async def test_unsubscribe_closes(services: RunningServices) -> None:
    """After unsubscribe a reader drains what it had, then sees Closed."""
    subscription = await api.subscribe()
    publish("x", {})
    await published(subscription, 1)
    api.unsubscribe(subscription)
    with pytest.raises(Closed):
        await subscription.receive()


async def test_replay_since_an_event(services: RunningServices) -> None:
    """The bus holds recent events: Since(id) returns what came after, None if unknown."""
    first = make_event("a", {})
    await acall(BUS, Publish(first))
    publish("b", {})
    publish("c", {})
    after = await acall(BUS, Since(first.id))
    assert after is not None
    assert [e.type for e in after] == ["b", "c"]
    assert await acall(BUS, Since("evt_unknown")) is None


async def test_subscribe_now_misses_nothing_and_a_services_events_keep_their_order(
    services: RunningServices,
) -> None:
    """``subscribe_now`` waits for nothing, yet every event published after it returns
    reaches the subscription (the bus's mailbox is one queue), in the order the service
    published them."""
    subscription = Subscription(["permission.asked", "permission.replied"])
    subscribe_now(subscription)  # no await: its Subscribe is queued before this returns
    session = await api.create_session("/p")
    asked = [await api.ask(session.id, "bash", [f"make {n}"]) for n in range(3)]
    for request in asked:
        await api.reply(request.id, "once")
    seen: list[tuple[str, object]] = []
    with trio.fail_after(5):
        while len(seen) < 6:
            event = await subscription.receive()
            seen.append(
                (
                    event.type,
                    event.properties["id" if event.type.endswith("asked") else "requestID"],
                )
            )
    ids = [r.id for r in asked]
    assert seen == [("permission.asked", i) for i in ids] + [("permission.replied", i) for i in ids]
    api.unsubscribe(subscription)

"""Parked trio waiters hold no thread, are all released, and cancel cleanly."""

from __future__ import annotations

import threading

import attrs
import pytest
import trio

from agentactors.actors import PERMISSION, api  # the deadline heap, probed below
from agentactors.actors._lifecycle import RunningServices
from agentactors.actors.runtime import (
    BridgeFuture,
    Crash,
    Later,
    Request,
    Service,
    _bridge,
    acall,
    handles,
    registry,
    start_singleton,
)
from agentactors.client import Client
from agentactors.model import CallTimeout, PermissionRequest, ServiceCrashed


@attrs.frozen
class Hold(Request[str]):
    """Answered later, with what the test sets on ``answer``."""

    answer: BridgeFuture[str] = attrs.field(eq=False)


class Holder(Service):
    @handles(Hold)
    def _hold(self, message: Hold) -> Later[str]:
        return Later(message.answer)


async def test_a_thousand_parked_waiters_hold_no_threads(services: RunningServices) -> None:
    """1,000 tasks waiting on pending requests: no new threads; replies release all."""
    session = await api.create_session("/tmp/project")
    threads_before = threading.active_count()
    released: list[PermissionRequest] = []
    parked = trio.Semaphore(0)
    asked: list[str] = []

    async def asker() -> None:
        request = await api.ask(session.id, "bash", ["make deploy"])
        asked.append(request.id)
        parked.release()
        released.append(await api.wait_permission(request.id, timeout=30))

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for _ in range(1000):
                nursery.start_soon(asker)
            for _ in range(1000):
                await parked.acquire()
            assert len(await api.list_pending(session_id=session.id, limit=1000)) == 1000
            assert threading.active_count() <= threads_before + 1  # the timer thread at most
            for request_id in asked:
                await api.reply(request_id, "once")
    assert len(released) == 1000
    assert all(r.reply == "once" for r in released)
    assert await api.list_pending() == []


async def test_a_cancelled_waiter_leaves_nothing_behind(services: RunningServices) -> None:
    """Cancelling a waiting task removes its callback from the answer it waits on; a
    cancelled wait for a decision leaves the request pending."""
    start_singleton("holder", Holder)
    answer: BridgeFuture[str] = BridgeFuture()
    with trio.move_on_after(0.01):
        await acall("holder", Hold(answer), timeout=None)
    assert answer.callback_count() == 0
    session = await api.create_session("/tmp/project")
    asked = await api.ask(session.id, "bash", ["make deploy"])
    with trio.move_on_after(0.01):
        await api.wait_permission(asked.id)
    assert (await api.get_permission(asked.id)).pending
    # a later reply still works and a fresh waiter sees it
    await api.reply(asked.id, "reject")
    final = await api.wait_permission(asked.id, timeout=5)
    assert final.reply == "reject"


async def test_waiters_reattach_after_a_permission_crash(services: RunningServices) -> None:
    """A waiter parked when permission crashes re-attaches by id and gets the decision."""
    session = await api.create_session("/tmp/project")
    asked = await api.ask(session.id, "bash", ["make deploy"])
    result: list[PermissionRequest] = []

    async def waiter(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        result.append(await api.wait_permission(asked.id, timeout=10))

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            await nursery.start(waiter)
            with pytest.raises(ServiceCrashed):
                await acall(PERMISSION, Crash("simulated"))
            # the new incarnation recovered the pending request
            recovered = await api.get_permission(asked.id)
            assert recovered.pending
            await api.reply(asked.id, "once")
    assert result[0].reply == "once"
    assert next(r for r in registry.snapshot() if r.name == PERMISSION).restarts == 1


async def test_a_blocking_waiter_reattaches_after_a_permission_crash(
    services: RunningServices,
) -> None:
    """The blocking in-process client waits through ``api``'s own re-attach: a crash of
    ``permission`` while a plain thread waits is invisible to it."""
    client = Client.in_process()
    session = await api.create_session("/tmp/project")
    asked = await api.ask(session.id, "bash", ["make deploy"])
    result: list[PermissionRequest] = []

    def waiter() -> None:
        result.append(client.wait(asked.id, timeout=10))

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.to_thread.run_sync, waiter)
            with pytest.raises(ServiceCrashed):
                await acall(PERMISSION, Crash("simulated"))
            await api.reply(asked.id, "once")
    assert result[0].reply == "once"


async def test_timed_waits_that_finish_leave_the_deadline_heap_small(
    services: RunningServices,
) -> None:
    """A call that is answered costs its deadline entry nothing lasting: finished waits
    are dropped from the run's deadline heap once they dominate it."""
    session = await api.create_session("/tmp/project")
    for _ in range(6000):
        await api.get_session(session.id)
    # private: the bridge's deadline heap is observable nowhere public
    deadlines = _bridge._current_deadlines()
    assert deadlines is not None
    assert deadlines.live == 0
    assert len(deadlines._heap) <= 4096 + 1


async def test_timeouts_fire_among_many_finished_waits(services: RunningServices) -> None:
    """Expired waits raise CallTimeout; answered ones in the same heap do not."""
    start_singleton("holder", Holder)
    answer: BridgeFuture[str] = BridgeFuture()
    session = await api.create_session("/tmp/project")
    for _ in range(100):
        await api.get_session(session.id)
    with trio.fail_after(5):
        with pytest.raises(CallTimeout):
            await acall("holder", Hold(answer), timeout=0.05)
        # a shorter deadline added while the reaper sleeps on a longer one still fires
        async with trio.open_nursery() as nursery:
            nursery.start_soon(api.get_session, session.id)
            with pytest.raises(CallTimeout):
                await acall("holder", Hold(answer), timeout=0.02)
    assert answer.callback_count() == 0

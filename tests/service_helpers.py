"""Messages the supervision and inline-run tests send to their own test services, and
one check both make."""

from __future__ import annotations

import threading
from typing import Any

import attrs
import pytest
import trio

from agentactors.actors.runtime import Request, acall, handles, post
from agentactors.model import CallTimeout


@attrs.frozen
class Boom(Request[None]):
    """Crash the handler."""


@attrs.frozen
class Whoami(Request[Any]):
    """Answer the incarnation (or thread) that handled it."""


@attrs.frozen
class Block(Request[str]):
    """Hold the handler until ``release`` is set; ``entered`` says it has begun."""

    release: threading.Event = attrs.field(eq=False)
    entered: threading.Event = attrs.field(eq=False)


class Blocks:
    """A test service's mixin: handles :class:`Block` (holds its thread until released)."""

    @handles(Block)
    def _block(self, message: Block) -> str:
        message.entered.set()
        message.release.wait(10)
        return "released"


async def assert_busy_actor_times_out_trio(name: str) -> None:
    """Hold actor ``name`` in a handler: a trio caller gets CallTimeout (it waits, holds
    no thread) while the loop keeps running other tasks."""
    release, entered = threading.Event(), threading.Event()
    post(name, Block(release, entered))
    assert entered.wait(5)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await trio.sleep(0)

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ticker)
            with pytest.raises(CallTimeout):
                await acall(name, Whoami(), timeout=0.05)
            nursery.cancel_scope.cancel()
    finally:
        release.set()
    assert ticks > 10

"""Running the in-process operations from a plain thread, blocking it.

The operations of ``agentactors.actors.api`` are coroutines for trio.  A plain thread
(a plugin's hooks, a script, the console) runs the same coroutines with
:func:`blocking`: while it drives one, every ``acall`` inside blocks the thread on the
service's answer (``call``) and :func:`pause` sleeps the thread, so the coroutine never
suspends and finishes in one step.  So the operations are written once, for both.
"""

from __future__ import annotations

import time
from collections.abc import Coroutine
from contextvars import ContextVar
from typing import Any, TypeVar

import trio

T = TypeVar("T")

_blocking: ContextVar[bool] = ContextVar("agentactors_blocking", default=False)


def in_blocking() -> bool:
    """Whether the running coroutine is driven by :func:`blocking` (calls block)."""
    return _blocking.get()


def blocking(operation: Coroutine[Any, Any, T]) -> T:
    """Run ``operation`` (an ``api`` coroutine) to its end in this thread, blocking it.

    Never from a trio task (it would block the event loop) nor a core service's thread
    (its calls raise ``BlockingCallError``).

    Raises:
        whatever the operation raises; RuntimeError if it awaits anything but the
        runtime's calls (it would have to suspend).
    """
    token = _blocking.set(True)
    try:
        operation.send(None)
    except StopIteration as done:
        answer: T = done.value  # the coroutine's own answer
        return answer
    finally:
        _blocking.reset(token)
    operation.close()
    raise RuntimeError("an operation run blocking awaited something that suspends")


async def pause(seconds: float) -> None:
    """Sleep: the task in trio, the thread under :func:`blocking`."""
    if _blocking.get():
        time.sleep(seconds)
    else:
        await trio.sleep(seconds)

"""Ctrl-C on the command line: held while a call must finish, so nothing is left behind.

Outside :func:`sigint_held`, SIGINT raises ``KeyboardInterrupt`` as usual (the command
line turns it into one line and exit 130); inside :func:`ended_as_sigint`, SIGTERM
(``kill``, ``timeout``) and SIGHUP (a closed terminal) do the same.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

INTERRUPTED = 130  # the shell's status for a process ended by SIGINT (128 + 2)


@contextmanager
def sigint_held() -> Iterator[Callable[[], bool]]:
    """Hold a first SIGINT until the block ends; a second one raises ``KeyboardInterrupt``
    at once.  Yields a function telling whether a SIGINT came.  A SIGINT this process
    ignores (started in the background, ``nohup``) stays ignored.  Main thread only (the
    ``signal`` module's rule)."""
    came = False
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield lambda: False
        return

    def note(signum: int, frame: FrameType | None) -> None:
        nonlocal came
        if came:
            raise KeyboardInterrupt
        came = True

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield lambda: came
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def ended_as_sigint() -> Iterator[None]:
    """SIGTERM and SIGHUP delivered as SIGINT for the block: ``kill``, ``timeout`` or a
    closed terminal end a command the way Ctrl-C does (a pending request withdrawn, not
    left behind).  A signal this process ignores stays ignored.  Main thread only."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        signal.raise_signal(signal.SIGINT)

    previous = {}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, interrupt)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

"""Noticing that a client closed its connection while its request is held.

A parked long-poll or an open event stream reads nothing from its socket, so nothing
would notice the client leave.  :class:`Hangups` keeps one ``epoll`` set of the held
connections' sockets, registered for ``EPOLLRDHUP`` only (the peer closed or reset; bytes a
client pipelines behind its request do not wake it), and one trio task that waits on that
set's descriptor and tells the target of each socket that hung up.  A held request costs
one ``epoll_ctl`` to watch and one to stop, instead of a task of its own (a trio task and
its nursery cost ~100 µs and ~2 KB here, and 10,000 asks may be parked at once).

Where ``select.epoll`` does not exist (not Linux), :class:`TaskHangups` does the same
with a reader task per held request, started in the server's nursery.  Trio thread only;
``watch`` and ``unwatch`` never block.
"""

from __future__ import annotations

import select
import socket
from typing import Protocol

import trio


class Target(Protocol):
    """What is told of a hang-up."""

    def hung_up(self) -> None: ...


class Hangups:
    """One epoll set for every held socket, read by :meth:`run`."""

    available = hasattr(select, "epoll") and hasattr(select, "EPOLLRDHUP")

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._targets: dict[int, Target] = {}

    def __len__(self) -> int:
        """How many sockets are watched."""
        return len(self._targets)

    def watch(self, sock: socket.socket, target: Target) -> None:
        """Call ``target.hung_up()`` (once, in the trio thread) when the peer of ``sock``
        closes or resets; at once if it already has."""
        fd = sock.fileno()
        self._epoll.register(fd, select.EPOLLRDHUP)
        self._targets[fd] = target

    def unwatch(self, sock: socket.socket) -> None:
        """Stop watching ``sock`` (before it is closed).  Idempotent."""
        fd = sock.fileno()
        if self._targets.pop(fd, None) is not None:
            try:
                self._epoll.unregister(fd)
            except OSError:  # already closed: the kernel dropped it from the set
                pass

    async def run(self) -> None:
        """Dispatch hang-ups until cancelled; then close the set."""
        try:
            fd = self._epoll.fileno()
            while True:
                await trio.lowlevel.wait_readable(fd)
                for hung, _ in self._epoll.poll(0):
                    target = self._targets.pop(hung, None)
                    try:
                        self._epoll.unregister(hung)
                    except OSError:
                        pass
                    if target is not None:
                        target.hung_up()
        finally:
            self._epoll.close()


class TaskHangups:
    """The same with a task per watched socket (a ``MSG_PEEK`` read), for systems without
    epoll.  Needs the nursery its tasks run in."""

    def __init__(self, nursery: trio.Nursery) -> None:
        self._nursery = nursery
        self._scopes: dict[int, trio.CancelScope] = {}

    def __len__(self) -> int:
        return len(self._scopes)

    def watch(self, sock: socket.socket, target: Target) -> None:
        scope = trio.CancelScope()
        self._scopes[sock.fileno()] = scope
        self._nursery.start_soon(self._peek, sock, scope, target)

    def unwatch(self, sock: socket.socket) -> None:
        scope = self._scopes.pop(sock.fileno(), None)
        if scope is not None:
            scope.cancel()

    async def _peek(self, sock: socket.socket, scope: trio.CancelScope, target: Target) -> None:
        with scope:
            await trio.lowlevel.wait_readable(sock)
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    await trio.sleep_forever()  # pipelined bytes: readable until read
            except BlockingIOError:
                await trio.sleep_forever()  # (a spurious wake-up)
            except OSError:
                pass
            self._scopes.pop(sock.fileno(), None)
            target.hung_up()

    async def run(self) -> None:
        await trio.sleep_forever()

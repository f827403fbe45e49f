"""The one process-wide registry of named singleton actors, and their supervisor.

pykka has no names (its registry is a list that accepts duplicates), so the name map is
ours: one lock guards it, which makes :func:`start_singleton` atomic — of any number of
threads racing to start one name, exactly one starts an actor and every other gets
:class:`AlreadyStarted` carrying the live ref.

Supervision is OTP's ``one_for_one``: when a service's handler crashes, the crashed
incarnation stops itself and calls :meth:`Registry._restart` from its own thread.  The
registry starts a fresh
incarnation under the same name unless the name has crashed more than its
:class:`RestartPolicy`'s ``max_restarts`` times within ``within`` seconds, in which case
the name is marked stopped with the reason and lookups raise :class:`NotRunning` naming it.

A name may instead be served by another process (:meth:`Registry.attach_remote`, a
:class:`Remote`): ``ask`` and ``tell`` of it go there, and no local actor can take it.

Callers never keep an actor: they look the name up on each send (:meth:`Registry.ask`,
:meth:`Registry.tell`: pykka's ``ActorRef.ask``/``tell`` on the current incarnation), so
a restarted service is reached by the same name.  Each incarnation is started with
pykka's ``Actor.start`` inside :func:`launching`, which names it before its thread runs.
Nothing here blocks on an actor; the only waits are the bounded joins of
:meth:`Registry.stop` and :func:`stop_all`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar, cast

import attrs
import pykka

from agentactors.model import AlreadyStarted, NotRunning, ServiceRestarting

from ._future import BridgeFuture, failed
from ._remote import Remote
from ._request import Request
from ._service import Service, launching

S = TypeVar("S", bound=Service)


@attrs.frozen
class RestartPolicy:
    """At most ``max_restarts`` restarts in any ``within``-second window (OTP intensity)."""

    max_restarts: int = 3
    within: float = 5.0


@attrs.frozen
class ActorInfo:
    """One row of :func:`snapshot`."""

    name: str
    actor_class: str
    alive: bool
    mailbox_depth: int
    messages_handled: int
    restarts: int
    started_at: float
    status: str  # running | restarting | stopped | remote (served by another process)
    reason: str | None = None


@attrs.define(eq=False)
class _Entry:
    name: str
    factory: Callable[[], pykka.ActorRef[Any]]
    policy: RestartPolicy
    actor: Service
    started_at: float
    status: str = "running"
    reason: str | None = None
    restarts: int = 0
    handled_before: int = 0  # messages handled by earlier incarnations
    crash_times: deque[float] = attrs.Factory(deque)


class Registry:
    """Name -> supervised actor.  Thread-safe; every method returns without blocking
    on an actor except :meth:`stop` and :meth:`stop_all`, which wait at most ``timeout``.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._entries: dict[str, _Entry] = {}
        self._remotes: dict[str, Remote] = {}

    def attach_remote(self, name: str, remote: Remote) -> None:
        """Let ``remote`` serve ``name``: :meth:`ask` and :meth:`tell` of the name go to
        it, and no local actor can be started under it until :meth:`detach_remote`.

        Raises:
            AlreadyStarted: a local actor or another remote holds ``name``.
        """
        with self._lock:
            entry = self._entries.get(name)
            if name in self._remotes or (entry is not None and entry.status != "stopped"):
                raise AlreadyStarted(name, entry.actor.actor_ref if entry else None)
            self._remotes[name] = remote

    def detach_remote(self, name: str) -> None:
        """Forget the remote serving ``name`` (nothing if none does)."""
        with self._lock:
            self._remotes.pop(name, None)

    def start_singleton(
        self,
        name: str,
        actor_class: type[S],
        *args: Any,
        restart: RestartPolicy | None = None,
        **kwargs: Any,
    ) -> pykka.ActorRef[S]:
        """Start ``actor_class(*args, **kwargs)`` under ``name``, atomically.

        Raises:
            AlreadyStarted: a live actor holds ``name`` (nothing was started).
            TypeError: ``actor_class`` is not a :class:`Service`.
        """
        if not (isinstance(actor_class, type) and issubclass(actor_class, Service)):
            raise TypeError(f"{actor_class!r} is not a Service subclass")

        def factory() -> pykka.ActorRef[Any]:
            return actor_class.start(*args, **kwargs)

        with self._lock:
            entry = self._entries.get(name)
            if entry is not None and entry.status != "stopped":
                raise AlreadyStarted(name, entry.actor.actor_ref)
            if name in self._remotes:
                raise AlreadyStarted(name, None)
            actor = self._launch(name, factory)
            self._entries[name] = _Entry(
                name=name,
                factory=factory,
                policy=restart or RestartPolicy(),
                actor=actor,
                started_at=actor.started_at,
            )
            return actor.actor_ref  # type: ignore[return-value] # the ref of an S

    def _launch(self, name: str, start: Callable[[], pykka.ActorRef[Any]]) -> Service:
        with launching(name, self._restart) as launch:
            start()
        if launch.actor is None:
            raise TypeError(f"starting {name!r} constructed no Service")
        return launch.actor

    def resolve(self, name: str) -> Service:
        """The current incarnation of ``name`` (to look at: tests, the console; messages
        go through :meth:`ask` and :meth:`tell`).

        Raises:
            ServiceRestarting: it crashed and is being (or was just) replaced.
            NotRunning: no such name, or it was stopped (with the reason).
        """
        entry = self._entries.get(name)  # dict reads are atomic; no lock on the hot path
        if entry is None:
            remote = self._remotes.get(name)
            raise NotRunning(name, f"served by {remote.describe()}" if remote else "never started")
        if entry.status == "running":
            return entry.actor
        if entry.status == "restarting":
            raise ServiceRestarting(name)
        raise NotRunning(name, entry.reason)

    def lookup(self, name: str) -> pykka.ActorRef[Any]:
        """The live ref of ``name``.  Raises :class:`NotRunning` (with the reason)."""
        return self.resolve(name).actor_ref

    def ask(self, name: str, message: Request[Any]) -> BridgeFuture[Any]:
        """Ask ``name`` (``ActorRef.ask``, not blocking); the future completes with the
        raw answer (a ``Later`` is not followed).  Never blocks; an inbox closed since
        the lookup fails the future (``NotRunning``/``ServiceRestarting``).

        Raises:
            NotRunning / ServiceRestarting: no live actor holds the name.
        """
        remote = self._remotes.get(name)  # atomic dict read, as in resolve
        if remote is not None:
            return remote.ask(message)
        ref = self.lookup(name)
        try:
            future = ref.ask(message, block=False)
        except NotRunning as exc:
            return failed(exc)
        return cast("BridgeFuture[Any]", future)  # the actor type's future (Service)

    def tell(self, name: str, message: Any) -> None:
        """Tell ``name`` a notice (``ActorRef.tell``); a request is asked and its answer
        dropped (so its errors never count as a notice's).  Never blocks; a closed name
        or inbox drops it.

        Raises:
            NotRunning / ServiceRestarting: no live actor holds the name.
        """
        remote = self._remotes.get(name)
        if remote is not None:
            remote.tell(message)
            return
        ref = self.lookup(name)
        try:
            if isinstance(message, Request):
                ref.ask(message, block=False)
            else:
                ref.tell(message)
        except (NotRunning, pykka.ActorDeadError):
            pass  # closed since the lookup: as if it had been told just before

    def snapshot(self) -> list[ActorInfo]:
        """Every named actor, in start order, then the remote names; never blocks on an
        actor."""
        with self._lock:
            entries = list(self._entries.values())
            remotes = list(self._remotes.items())
        rows = []
        for entry in entries:
            actor = entry.actor
            alive = entry.status == "running" and actor.actor_ref.is_alive()
            rows.append(
                ActorInfo(
                    name=entry.name,
                    actor_class=f"{type(actor).__module__}.{type(actor).__qualname__}",
                    alive=alive,
                    mailbox_depth=actor.mailbox_depth() if alive else 0,
                    messages_handled=entry.handled_before + actor.messages_handled,
                    restarts=entry.restarts,
                    started_at=entry.started_at,
                    status=entry.status,
                    reason=entry.reason,
                )
            )
        for name, remote in remotes:
            rows.append(
                ActorInfo(
                    name=name,
                    actor_class=remote.describe(),
                    alive=True,
                    mailbox_depth=0,
                    messages_handled=0,
                    restarts=0,
                    started_at=0.0,
                    status="remote",
                )
            )
        return rows

    def _restart(self, crashed: Service, exc: BaseException) -> None:
        """Supervisor: replace a crashed incarnation (runs in the crashed actor's thread)."""
        name = crashed.service_name
        with self._lock:
            entry = self._entries.get(name)
            if entry is None or entry.actor is not crashed:
                return  # already replaced or removed
            entry.handled_before += crashed.messages_handled
            now = time.monotonic()
            window = entry.crash_times
            window.append(now)
            while window and now - window[0] > entry.policy.within:
                window.popleft()
            if len(window) > entry.policy.max_restarts:
                entry.status = "stopped"
                entry.reason = (
                    f"gave up after {len(window)} crashes within {entry.policy.within:g} s; "
                    f"last: {type(exc).__name__}: {exc}"
                )
                return
            entry.status = "restarting"
            try:
                entry.actor = self._launch(name, entry.factory)
            except Exception as launch_exc:  # noqa: BLE001 - any failure to start is reported, not raised into the crashed actor
                entry.status = "stopped"
                entry.reason = f"could not restart: {type(launch_exc).__name__}: {launch_exc}"
                return
            entry.restarts += 1
            entry.status = "running"

    def stop(self, name: str, *, timeout: float = 5.0) -> None:
        """Stop ``name`` for good (no restart) and free the name.

        Blocks the calling thread up to ``timeout`` for the actor to finish its current
        message.  Raises :class:`NotRunning` if no such name.
        """
        with self._lock:
            entry = self._entries.pop(name, None)
        if entry is None:
            raise NotRunning(name, "never started")
        _stop_actor(entry.actor, timeout)

    def stop_all(self, *, timeout: float = 5.0) -> None:
        """Stop every named actor, newest first, and empty the registry."""
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
            self._remotes.clear()
        for entry in reversed(entries):
            _stop_actor(entry.actor, timeout)

    def names(self) -> list[str]:
        """The registered names, in start order, then the remote names."""
        with self._lock:
            return [*self._entries, *self._remotes]


def _stop_actor(actor: Service, timeout: float) -> None:
    if not actor.actor_ref.is_alive():
        return
    try:
        actor.actor_ref.stop(block=True, timeout=timeout)
    except pykka.Timeout:
        pass  # a stuck handler; the thread is a daemon and dies with the process


registry = Registry()
"""The process's one registry.  Everything resolves services through it."""

start_singleton = registry.start_singleton
lookup = registry.lookup
resolve = registry.resolve
snapshot = registry.snapshot
stop_all = registry.stop_all

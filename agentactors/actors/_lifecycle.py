"""Starting and stopping the services, each a named singleton in the one registry.

With a data dir, :func:`start_services` first (in the calling thread: blocking is
allowed here, no service runs yet) takes the data dir's lock, migrates the database and
loads the committed state into the journal's mirror and the recent events into the bus;
then it starts ``bus``, ``store`` and ``permission``. Requests that expired while the
server was down end as expired as soon as ``permission`` starts (their timers fire at
once). :func:`stop_services` stops them newest first, so every batch reaches the store
before it closes."""

from __future__ import annotations

import os

import attrs

from agentactors.actors.runtime import RestartPolicy, call, registry
from agentactors.actors.store import (
    MEMORY,
    STORE,
    DataDir,
    Journal,
    MemoryState,
    State,
    StoreActor,
    data_dir_path,
    load_state,
    lock_data_dir,
    open_database,
    recent_events,
)
from agentactors.model import AlreadyStarted, NotRunning
from agentactors.policy import Config, Protected

from ._permission_messages import PERMISSION, EndAll
from .bus import BUS, BusActor, PublishMany
from .permission import PermissionActor, PolicyBoard


@attrs.frozen
class RunningServices:
    """What :func:`start_services` started."""

    config: Config
    state: State
    names: tuple[str, ...]
    database: str | None = None  # the SQLite file, or None (state in memory only)


_locks: dict[str, DataDir] = {}  # data dirs this process holds, by path
_started: list[RunningServices] = []  # what stop_services() is stopping


def start_services(
    config: Config | None = None,
    *,
    state: MemoryState | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    restart: RestartPolicy | None = None,
) -> RunningServices:
    """Start the services under their names.

    ``data_dir``: keep the state in SQLite there (created if missing; ``design/state.md``);
    ``None`` or ``":memory:"``: in memory only (``state``, or a fresh ``MemoryState``),
    lost at exit.

    Raises:
        AlreadyStarted: a service of that name is already running in this process
            (there is exactly one registry per process; see design/actor-map.md).
        StoreError: the data dir or its database cannot be used (the message names it).
    """
    config = config or Config()
    if data_dir is None or os.fspath(data_dir) == MEMORY:
        return _start(config, state or MemoryState(), restart)
    if state is not None:
        raise TypeError("give either state (in memory) or data_dir (SQLite), not both")
    for name in (BUS, STORE, PERMISSION):
        if _running(name):  # before touching the data dir another start may hold
            raise AlreadyStarted(name, registry.lookup(name))
    opened = _lock(data_dir)
    try:
        conn, _ = open_database(opened, synchronous=config.store_synchronous)
        try:
            mirror = load_state(conn)
            seed = recent_events(conn, min(config.bus_history, config.event_retention))
        finally:
            conn.close()
        journal = Journal(mirror, registry=registry)
        registry.start_singleton(BUS, BusActor, history=config.bus_history, restart=restart)
        if seed:  # no one subscribes yet: this only fills the replay history
            registry.tell(BUS, PublishMany(tuple(seed)))
        registry.start_singleton(
            STORE,
            StoreActor,
            journal=journal,
            data_dir=opened,
            synchronous=config.store_synchronous,
            event_retention=config.event_retention,
            restart=restart,
        )
        protected = Protected.of(config.sources, str(opened.directory))
        _start_deciders(config, journal, restart, protected)
    except BaseException:
        _release(opened)
        raise
    services = RunningServices(
        config, journal, (BUS, STORE, PERMISSION), database=str(opened.database)
    )
    _started.append(services)
    return services


def _start_deciders(
    config: Config,
    state: State,
    restart: RestartPolicy | None,
    protected: Protected | None = None,
) -> None:
    """Start ``permission`` on ``state`` (``protected``: the paths no
    rule releases; by default those of the config's sources)."""
    registry.start_singleton(
        PERMISSION,
        PermissionActor,
        config=config,
        state=state,
        policies=PolicyBoard(),
        protected=protected,
        restart=restart,
    )


def _start(config: Config, state: MemoryState, restart: RestartPolicy | None) -> RunningServices:
    registry.start_singleton(BUS, BusActor, history=config.bus_history, restart=restart)
    _start_deciders(config, state, restart)
    services = RunningServices(config, state, (BUS, PERMISSION))
    _started.append(services)
    return services


def _lock(data_dir: str | os.PathLike[str]) -> DataDir:
    """Lock ``data_dir``; a lock this process still holds from services that are gone
    (a registry cleared without ``stop_services``) is given up first."""
    stale = _locks.pop(str(data_dir_path(data_dir)), None)
    if stale is not None:
        stale.release()
    opened = lock_data_dir(data_dir)
    _locks[str(opened.directory)] = opened
    return opened


def _release(opened: DataDir) -> None:
    opened.release()
    _locks.pop(str(opened.directory), None)


def _running(name: str) -> bool:
    try:
        registry.resolve(name)
    except NotRunning:
        return False
    return True


def stop_services(*, timeout: float = 5.0) -> None:
    """Stop every named actor (newest first) and free the names.  Blocks up to
    ``timeout`` per actor for its current message.

    Pending requests stay pending (in the store, with a data dir) unless the config says
    ``[requests] reject_pending_on_exit = true``: then each ends first with
    ``decidedBy: shutdown``.  Call from a plain thread, never a service's.
    """
    services = _started.pop() if _started else None
    if services is not None and services.config.reject_pending_on_exit:
        try:
            call(PERMISSION, EndAll(), timeout=timeout)
        except Exception:  # noqa: BLE001 - stopping goes on; the requests stay pending
            pass
    registry.stop_all(timeout=timeout)
    _started.clear()
    for opened in list(_locks.values()):
        _release(opened)


def running(name: str) -> bool:
    """Whether a live actor holds ``name``."""
    return _running(name)

"""Serving: hypercorn inside our own ``trio.run``, and graceful shutdown.

One process holds the registry: the actors run as threads of this process and hypercorn
serves the Quart app from its trio thread (``_hypercorn.serve``, never the hypercorn
command line, which forks a worker); there are no worker processes.

Shutdown, on the first SIGINT/SIGTERM (or :meth:`HttpServer.shutdown`):

1. held requests end: parked long-polls answer 503 ``ShuttingDownError``, event streams
   end (``Held.close``);
2. hypercorn stops accepting, closes idle connections, waits up to ``graceful_timeout``
   for open requests, then cancels what is left;
3. :func:`run` stops the actors once the trio run is over.

A second signal cancels the wait.  Pending requests are not ended by a shutdown: they
stay pending in the store, as after a crash (``[requests] reject_pending_on_exit = true``
ends them with ``decidedBy: shutdown``).  State lives in ``--data-dir`` (default: the
platform's user data dir; ``:memory:``: nowhere), see design/state.md.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import AsyncIterator, Callable
from functools import partial

import attrs
import trio
from hypercorn.config import Config as HypercornConfig

from agentactors.actors import start_services, stop_services
from agentactors.actors.store import StoreError
from agentactors.plugins import start_plugins
from agentactors.policy import Config, default_data_dir

from . import _hypercorn
from ._app import App, create_app
from ._context import KEY, Held
from ._repl import ConsoleServer
from ._settings import Settings

Announce = Callable[[str], None]
BACKLOG = 4096  # 1,000s of parked long-polls connect at once


def hypercorn_config(settings: Settings) -> HypercornConfig:
    """hypercorn's settings for ``settings``: one bind, TLS if given, our limits."""
    config = HypercornConfig()
    host = settings.host.strip("[]")
    config.bind = [f"[{host}]:{settings.port}" if ":" in host else f"{host}:{settings.port}"]
    config.backlog = BACKLOG
    config.graceful_timeout = settings.graceful_timeout
    config.keep_alive_timeout = settings.keep_alive
    config.h11_max_incomplete_size = settings.max_head
    config.accesslog = None
    config.errorlog = "-"
    if settings.certfile:
        config.certfile = settings.certfile
        config.keyfile = settings.keyfile
    return config


class HttpServer:
    """The app, served by hypercorn in the calling trio run, until :meth:`shutdown`."""

    def __init__(
        self, settings: Settings, config: Config, *, console: tuple[str, int] | None = None
    ) -> None:
        self.settings = settings
        self.app: App = create_app(settings, config, console=console)
        self.config = hypercorn_config(settings)
        self.held: Held = self.app.extensions[KEY].held
        self.url: str | None = None
        self.stopped = trio.Event()
        self._shutdown = trio.Event()

    @property
    def closing(self) -> bool:
        return self._shutdown.is_set()

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until :meth:`shutdown` and the graceful window are over.

        ``task_status.started`` gets the URL it listens on (the real port when the
        settings say port 0).  Raises OSError if the address cannot be bound.
        """
        try:
            async with trio.open_nursery() as nursery:
                serve = partial(
                    _hypercorn.serve, self.app, self.config, shutdown_trigger=self._shutdown.wait
                )
                bound = await nursery.start(serve)
                host, port = bound[0]
                shown = f"[{host}]" if ":" in host else host
                scheme = "https" if self.settings.certfile else "http"
                self.url = f"{scheme}://{shown}:{port}"
                task_status.started(self.url)
        finally:
            self.stopped.set()

    def shutdown(self) -> None:
        """Begin the graceful shutdown (see the module doc).  Trio thread; never blocks;
        idempotent."""
        self.held.close()
        self._shutdown.set()


async def serve_until_signal(
    settings: Settings, config: Config, *, announce: Announce, console: ConsoleServer | None
) -> None:
    """Serve until SIGINT/SIGTERM, then shut down gracefully (a second signal: at once).

    The services must already be running.
    """
    address = None
    if console is not None:
        console.start(trio.lowlevel.current_trio_token())
        address = console.address
        if sys.stdin.isatty():
            console.interact_here()
    server = HttpServer(settings, config, console=address)
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            url = await nursery.start(server.run)
            announce(f"agentactors listening on {url} (directory {settings.directory})")
            if settings.data_dir:
                announce(f"state in {settings.data_dir}")
            if address is not None:
                announce(
                    f"debug console on {address[0]}:{address[1]}; "
                    f"attach with: python -m agentactors repl --url {url}"
                )
            nursery.start_soon(_on_signals, signals, server, nursery.cancel_scope, announce)
            await server.stopped.wait()
            nursery.cancel_scope.cancel()


async def _on_signals(
    signals: AsyncIterator[int],
    server: HttpServer,
    scope: trio.CancelScope,
    announce: Announce,
) -> None:
    async for signum in signals:
        if server.closing:
            scope.cancel()
            return
        announce(f"{signal.Signals(signum).name}: shutting down")
        server.shutdown()


def run(settings: Settings, config: Config, *, announce: Announce = print) -> int:
    """``serve``: start the services, serve until a signal, stop everything.  Blocks.

    Returns the exit status.  Raises StartRefused for unsafe settings, AlreadyStarted if
    services already run in this process.
    """
    settings.check()
    settings.pin()
    data_dir = settings.data_dir or default_data_dir()
    if settings.cluster:
        from ._cluster import join_cluster  # noqa: PLC0415 - Ray loads only with --cluster

        cluster = join_cluster(settings.cluster, config, data_dir)
        if cluster is None:
            return 2
        where, leave = cluster
    else:
        try:
            services = start_services(config, data_dir=data_dir)
        except StoreError as exc:
            print(f"agentactors: {exc}", file=sys.stderr)
            return 2
        where, leave = services.database or ":memory: (lost at exit)", None
    settings = attrs.evolve(settings, data_dir=where)
    loaded = start_plugins(config.plugins, settings.directory, policy_timeout=config.policy_timeout)
    for spec, why in loaded.failed:
        print(f"agentactors: plugin {spec} not loaded: {why}", file=sys.stderr)
    if loaded.started:
        announce(f"plugins: {', '.join(loaded.started)}")
    console = ConsoleServer(password=settings.password) if settings.repl else None
    try:
        trio.run(partial(serve_until_signal, settings, config, announce=announce, console=console))
    except KeyboardInterrupt:  # a signal before the receiver was installed
        return 130
    except BaseExceptionGroup as group:
        cannot_listen = _only_os_error(group)
        if cannot_listen is None:
            raise
        where = f"{settings.host}:{settings.port}"
        print(f"agentactors: cannot listen on {where}: {cannot_listen}", file=sys.stderr)
        return 2
    finally:
        if console is not None:
            console.close()
        stop_services()
        if leave is not None:
            leave()
    return 0


def _only_os_error(group: BaseExceptionGroup[BaseException]) -> OSError | None:
    """The OSError a group holds when it holds nothing else (binding failed), else None."""
    matched, rest = group.split(OSError)
    if matched is None or rest is not None:
        return None
    first: BaseException = matched
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    return first if isinstance(first, OSError) else None

"""Serving: the HTTP server inside our own ``trio.run``, and graceful shutdown.

One process holds the registry (contract §2, guarantee 4): the actors run as threads of
this process and the HTTP server (``_server``: httptools on trio) serves from its trio
thread; there are no worker processes.

Shutdown, on the first SIGINT/SIGTERM (or :meth:`HttpServer.shutdown`):

1. the server stops accepting, closes idle connections, ends held requests (parked
   long-polls answer 503 ``ShuttingDownError``) and event streams, and waits up to
   ``graceful_timeout`` for open requests, then cancels what is left;
2. :func:`run` stops the actors once the trio run is over.

A second signal cancels the wait.  Pending requests are not ended by a shutdown: they
stay pending in the store, as after a crash (``[requests] reject_pending_on_exit = true``
ends them with ``decidedBy: shutdown``).  State lives in ``--data-dir`` (default: the
platform's user data dir; ``:memory:``: nowhere), see design/state.md.
"""

from __future__ import annotations

import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from functools import partial

import attrs
import trio

from agentactors.actors import (
    Config,
    StoreError,
    default_data_dir,
    start_services,
    stop_services,
)
from agentactors.plugins import start_plugins

from ._app import App, create_app
from ._repl import ConsoleServer
from ._server import Server
from ._settings import Settings

Announce = Callable[[str], None]
BACKLOG = 4096  # 1,000s of parked long-polls connect at once


class HttpServer:
    """The app, served in the calling trio run, until :meth:`shutdown`."""

    def __init__(
        self, settings: Settings, config: Config, *, console: tuple[str, int] | None = None
    ) -> None:
        self.settings = settings
        self.app: App = create_app(settings, config, console=console)
        self.server = Server(
            self.app, max_body=settings.max_body, graceful_timeout=settings.graceful_timeout
        )
        self.url: str | None = None
        self.stopped = trio.Event()

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until :meth:`shutdown` and the graceful window are over.

        ``task_status.started`` gets the URL it listens on (the real port when the
        settings say port 0).  Raises OSError if the address cannot be bound.
        """
        try:
            host = self.settings.host.strip("[]")
            bound = await trio.open_tcp_listeners(self.settings.port, host=host, backlog=BACKLOG)
            # the server reads and writes standard sockets itself (see _server)
            listeners = [socket.socket(fileno=listener.socket.detach()) for listener in bound]
            port = listeners[0].getsockname()[1]
            shown = f"[{host}]" if ":" in host else host
            self.url = f"http://{shown}:{port}"
            task_status.started(self.url)  # bound and listening: connections queue
            await self.server.serve(listeners)
        finally:
            self.stopped.set()

    def shutdown(self) -> None:
        """Begin the graceful shutdown (see the module doc).  Trio thread; never blocks;
        idempotent."""
        self.server.shutdown()


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
        if server.server.closing:
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
    try:
        services = start_services(config, data_dir=settings.data_dir or default_data_dir())
    except StoreError as exc:
        print(f"agentactors: {exc}", file=sys.stderr)
        return 2
    where = services.database or ":memory: (lost at exit)"
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
    finally:
        if console is not None:
            console.close()
        stop_services()
    return 0

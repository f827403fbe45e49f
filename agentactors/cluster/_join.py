"""Joining a Ray cluster: ``serve --cluster ADDRESS``.

:func:`join` connects this process to an existing cluster (it never starts one: a
cluster started by a driver dies with it), gets or creates the one named detached actor
that hosts the shared services, attaches it under ``permission`` in this process's
registry, starts the local ``bus`` and the event pump.  See ``design/cluster.md``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import attrs
import ray

from agentactors.actors import PERMISSION
from agentactors.actors.bus import BUS, BusActor
from agentactors.actors.runtime import registry
from agentactors.policy import Config

from ._host import ServicesHost
from ._pump import Pump
from ._shared import SharedService, wait_ready

NAMESPACE = "agentactors"
HOST = "agentactors"  # the shared host's actor name, in NAMESPACE
MAX_CONCURRENCY = 100_000  # parked waits are coroutines of the host, not threads
START_TIMEOUT = 120.0  # seconds to wait for the host to start its services


@attrs.define
class Cluster:
    """This process's membership: :meth:`leave` at exit."""

    address: str
    host_pid: int
    database: str | None
    pump: Pump

    def leave(self) -> None:
        """Stop the pump, forget the shared names and disconnect (the shared host and
        its state stay).  Blocks up to a few seconds."""
        self.pump.stop()
        registry.detach_remote(PERMISSION)
        ray.shutdown()


def join(address: str, config: Config, data_dir: str) -> Cluster:
    """Join the cluster at ``address`` (``auto``: the one ``ray start`` left on this
    machine).  Blocks until the shared host runs (created with ``config`` and
    ``data_dir`` on its node if this process is the first; Ray keeps the first
    creation's arguments for its restarts).

    Raises:
        ConnectionError: no cluster at ``address``.
        AlreadyStarted: this process already runs a ``permission`` or ``bus``.
        ray.exceptions.RayError: the host could not start (the message says why).
    """
    ray.init(
        address=address,
        namespace=NAMESPACE,
        logging_level=logging.WARNING,
        log_to_driver=False,
    )
    try:
        handle: Any = (  # Ray's handle types the methods as local calls: it is untyped here
            ray.remote(ServicesHost)
            .options(
                name=HOST,
                get_if_exists=True,
                lifetime="detached",
                max_restarts=-1,
                max_task_retries=0,  # an ask is not idempotent: a lost call fails
                max_concurrency=MAX_CONCURRENCY,
                num_cpus=0,
            )
            .remote(config, os.fspath(data_dir))
        )
        host_pid = wait_ready(handle, START_TIMEOUT)
        database: str | None = ray.get(handle.database.remote(), timeout=START_TIMEOUT)
        registry.attach_remote(PERMISSION, SharedService(handle, PERMISSION, address))
        registry.start_singleton(BUS, BusActor, history=config.bus_history)
        pump = Pump(handle).start()
    except BaseException:
        registry.detach_remote(PERMISSION)
        ray.shutdown()
        raise
    return Cluster(address, host_pid, database, pump)

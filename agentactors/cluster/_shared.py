"""A name of the shared host, as this process's registry holds it.

:class:`SharedService` is the :class:`~agentactors.actors.runtime.Remote` that
:func:`agentactors.cluster.join` attaches under ``permission``: every caller of the
process (HTTP handlers, the in-process client, plugins, the console) asks
``permission`` by name as before, and the message goes to the one host of the cluster.
Each ask is one Ray actor call; its ``ObjectRef`` completes a :class:`BridgeFuture`
through a done-callback, so no thread waits for it.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import Any

import ray
from ray.exceptions import ActorUnavailableError, RayActorError, RayError

from agentactors.actors.messages import SetPolicies
from agentactors.actors.runtime import BridgeFuture, Request, failed
from agentactors.model import NotRunning, ServiceRestarting

from ._wire import unpack_error

log = logging.getLogger(__name__)


class SharedService:
    """The service ``name`` of the shared host (``handle``: its Ray actor)."""

    def __init__(self, handle: Any, name: str, where: str) -> None:
        self._handle = handle
        self._name = name
        self._where = where

    def ask(self, message: Request[Any]) -> BridgeFuture[Any]:
        """One actor call; the future completes with the answer or the service's
        error, ``ServiceRestarting`` while Ray restarts the host.  Never blocks."""
        try:
            ref = self._handle.call.remote(self._name, message)
        except RayError as exc:
            return failed(NotRunning(self._name, f"the cluster: {exc}"))
        future: BridgeFuture[Any] = BridgeFuture()
        name = self._name

        def settle(done: Future[Any]) -> None:  # a Ray thread
            try:
                ok, value = done.result()
            except (RayActorError, ActorUnavailableError):
                future.try_set_exception(ServiceRestarting(name, "the shared host restarts"))
                return
            except Exception as exc:  # noqa: BLE001 - the cluster itself failed the call
                future.try_set_exception(NotRunning(name, f"the cluster: {exc}"))
                return
            if ok:
                future.try_set(value)
            else:
                future.try_set_exception(unpack_error(value))

        ref.future().add_done_callback(settle)
        return future

    def tell(self, message: Any) -> None:
        """A notice to the shared service; a request is asked and its answer dropped.
        Policy plugins stay in their own process: their ``SetPolicies`` is dropped
        (logged), so the shared service never waits on one process's plugin."""
        if isinstance(message, SetPolicies):
            if message.names:
                log.error(
                    "cluster: policy plugins are not consulted by the shared %s service "
                    "(they run in one process); their verdicts are ignored",
                    self._name,
                )
            return
        try:
            if isinstance(message, Request):
                self.ask(message)
            else:
                self._handle.tell.remote(self._name, message)
        except RayError:
            pass  # as a notice to a stopped service

    def describe(self) -> str:
        return f"the cluster's shared host ({self._where})"


def wait_ready(handle: Any, timeout: float) -> int:
    """Block until the host runs its services; its process id.  Raises the host's
    start error (e.g. its data dir is locked) or ``ray.exceptions.GetTimeoutError``."""
    pid: int = ray.get(handle.ready.remote(), timeout=timeout)
    return pid

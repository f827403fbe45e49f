"""The in-process transports (sync and async) and the transport protocols."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Protocol, TypeVar

from agentactors.actors import Subscription, api
from agentactors.actors.runtime import blocking
from agentactors.model import Decider, Event

from . import _local
from ._ops import Op

T = TypeVar("T")


class Transport(Protocol):
    """What a sync :class:`~agentactors.client.Client` needs."""

    def handle(self, op: Op[T]) -> T: ...
    def events(
        self, types: Iterable[str] | None, directory: str | None
    ) -> Any: ...  # a context manager yielding an iterator of Event
    def close(self) -> None: ...


class AsyncTransport(Protocol):
    """What an :class:`~agentactors.client.AsyncClient` needs."""

    async def handle(self, op: Op[T]) -> T: ...
    def events(
        self, types: Iterable[str] | None, directory: str | None
    ) -> Any: ...  # an async context manager yielding an async iterator of Event
    async def aclose(self) -> None: ...


class LocalTransport:
    """Blocking calls to the registry's services (for threads; never from a service)."""

    def __init__(self, decided_by: Decider) -> None:
        self.decided_by = decided_by

    def handle(self, op: Op[T]) -> T:
        return blocking(_local.operation(op, self.decided_by))

    @contextmanager
    def events(self, types: Iterable[str] | None, directory: str | None) -> Iterator[Any]:
        subscription = blocking(api.subscribe(types, directory=directory))
        try:
            yield _iterate(subscription)
        finally:
            api.unsubscribe(subscription)

    def close(self) -> None:
        pass


class AsyncLocalTransport:
    """Trio calls to the registry's services (no thread held per call)."""

    def __init__(self, decided_by: Decider) -> None:
        self.decided_by = decided_by

    async def handle(self, op: Op[T]) -> T:
        return await _local.operation(op, self.decided_by)

    @asynccontextmanager
    async def events(
        self, types: Iterable[str] | None, directory: str | None
    ) -> AsyncIterator[Subscription]:
        subscription = await api.subscribe(types, directory=directory)
        try:
            yield subscription  # async-iterable: ``async for event in stream``
        finally:
            api.unsubscribe(subscription)

    async def aclose(self) -> None:
        pass


def _iterate(subscription: Subscription) -> Iterator[Event]:
    while True:
        event = subscription.get()
        if event is not None:
            yield event

"""Shared fixtures: a clean registry per test, the services, event helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import trio

from agentactors.actors import Subscription, api, start_services, stop_services
from agentactors.actors._lifecycle import Services
from agentactors.actors.runtime import registry
from agentactors.actors.store import MemoryState
from agentactors.model import Event
from agentactors.policy import Config


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    """Every test starts and ends with an empty registry (one per process)."""
    registry.stop_all(timeout=2.0)
    yield
    registry.stop_all(timeout=2.0)


@pytest.fixture
def config() -> Config:
    return Config(read_project_files=False)


@pytest.fixture
def services(config: Config) -> Iterator[Services]:
    started = start_services(config, state=MemoryState())
    yield started
    stop_services()


@pytest.fixture
async def events(services: Services) -> AsyncIterator[Subscription]:
    """Every event published after the test starts."""
    subscription = await api.subscribe(maxlen=100_000)
    yield subscription
    api.unsubscribe(subscription)


async def next_event(subscription: Subscription, type_: str, timeout: float = 5.0) -> Event:
    """The next event of ``type_`` (skipping others), or fail after ``timeout``."""
    with trio.fail_after(timeout):
        while True:
            event = await subscription.receive()
            if event.type == type_:
                return event


def props(event: Event) -> dict[str, Any]:
    return dict(event.properties)

"""Shared fixtures: a clean registry per test, the services, event helpers, and a live
HTTP server (``live``; its settings ``http_settings``).  A module changes ``config`` or
``http_settings`` by defining a fixture of that name."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import trio

from agentactors.actors import Subscription, api, start_services, stop_services
from agentactors.actors._lifecycle import RunningServices
from agentactors.actors.runtime import registry
from agentactors.actors.store import MemoryState
from agentactors.http import HttpServer, Settings
from agentactors.model import Event
from agentactors.policy import Config

from .http_helpers import PROJECT, Live


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
def services(config: Config) -> Iterator[RunningServices]:
    started = start_services(config, state=MemoryState())
    yield started
    stop_services()


@pytest.fixture
async def events(services: RunningServices) -> AsyncIterator[Subscription]:
    """Every event published after the test starts."""
    subscription = await api.subscribe(maxlen=100_000)
    yield subscription
    api.unsubscribe(subscription)


@pytest.fixture
def http_settings() -> Settings:
    """The live server's settings; a module overrides this fixture to change them."""
    return Settings(port=0, directory=PROJECT)


@pytest.fixture
async def live(
    services: RunningServices, config: Config, http_settings: Settings
) -> AsyncIterator[Live]:
    """The real server on 127.0.0.1:<ephemeral>, shut down gracefully after the test."""
    server = HttpServer(http_settings, config)
    async with trio.open_nursery() as nursery:
        url = await nursery.start(server.run)
        async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
            yield Live(url, client, server)
        server.shutdown()


async def next_event(subscription: Subscription, type_: str, timeout: float = 5.0) -> Event:
    """The next event of ``type_`` (skipping others), or fail after ``timeout``."""
    with trio.fail_after(timeout):
        while True:
            event = await subscription.receive()
            if event.type == type_:
                return event


def props(event: Event) -> dict[str, Any]:
    return dict(event.properties)

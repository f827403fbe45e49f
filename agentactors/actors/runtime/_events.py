"""Where a batch of events goes once its service lets it out: the bus.

The runtime knows no bus.  The bus installs its sink here when its module is loaded
(:func:`install_event_sink`); every event is made by that module, so a batch never
exists without a sink.
"""

from __future__ import annotations

from collections.abc import Callable

from agentactors.model import Event

EventSink = Callable[[list[Event]], None]

_sink: EventSink | None = None


def install_event_sink(sink: EventSink) -> None:
    """Make ``sink`` where every later batch goes (the bus calls this once)."""
    global _sink  # noqa: PLW0603 - one sink per process, set when the bus loads
    _sink = sink


def send_events(events: list[Event]) -> None:
    """Hand a batch to the installed sink, in this thread; never blocks.

    Raises:
        RuntimeError: no sink is installed (the bus module was never loaded).
    """
    sink = _sink
    if sink is None:
        raise RuntimeError("no event sink: agentactors.actors.bus is not loaded")
    sink(events)

"""In-process plugin round trip: ask -> ``permission.asked`` on the bus -> a plugin's
``on_event`` replies through ``self.client`` -> the asker is released.

Run: ``.venv/bin/python -m benchmarks.plugin_roundtrip [--cycles N]``.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import trio

from agentactors.actors import api, start_services, stop_services
from agentactors.actors.store import MemoryState
from agentactors.model import Event
from agentactors.plugins import Plugin, PluginSpec, start_plugins
from agentactors.policy import Config

from ._stats import summary_us


class Replier(Plugin):
    """Replies once to every asked request."""

    name = "bench-replier"
    events = ("permission.asked",)

    def on_event(self, event: Event) -> None:
        self.client.reply(event.properties["id"], "once")


async def run(cycles: int = 3000) -> dict[str, Any]:
    """Median and p99 of the round trip, in microseconds."""
    start_services(Config(read_project_files=False, reject_cascade=False), state=MemoryState())
    try:
        start_plugins([], "/bench", extra=[PluginSpec("replier", plugin_class=Replier)])
        session = await api.create_session("/bench")
        samples = []
        for index in range(cycles + 300):
            start = time.perf_counter()
            await api.ask_and_wait(session.id, "bash", ["make deploy"])
            if index >= 300:  # warm-up
                samples.append(time.perf_counter() - start)
    finally:
        stop_services()
    return {"plugin_round_trip": {**summary_us(samples), "cycles": len(samples)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=3000)
    print(json.dumps(trio.run(run, parser.parse_args().cycles), indent=2))


if __name__ == "__main__":
    main()

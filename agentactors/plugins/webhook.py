"""``webhook``: POST every ``permission.asked`` to a URL (phone, chat, pager).

::

    plugins = [["agentactors.plugins.webhook:Webhook", {
        url = "http://127.0.0.1:9000/hook",
        timeout = 5,          # seconds per attempt
        retries = 3,          # further attempts after a failure (5xx, timeout, refused)
        backoff = 0.5,        # seconds before the first retry, doubled each time
        headers = {Authorization = "Bearer ..."},
        events = ["permission.asked", "permission.replied"],   # default: asked only
    }]]

The body is the event as on ``/event``: ``{"id", "type", "properties"}`` plus
``"directory"``.  Deliveries run in the plugin's own thread: a slow or dead endpoint
delays nothing else; if it falls far behind, the plugin gets ``bus.lagged`` and the
oldest events are dropped (and logged).  A 4xx answer is not retried.
"""

from __future__ import annotations

import logging
import time

import httpx

from agentactors.actors import LAGGED
from agentactors.model import Event, wire

from ._plugin import Plugin

log = logging.getLogger(__name__)


class Webhook(Plugin):
    name = "webhook"
    events = None  # filtered in on_event by the "events" option (default: asked)

    def on_start(self) -> None:
        options = self.options
        if not options.get("url"):
            raise ValueError("the webhook plugin needs a url option")
        self.url = str(options["url"])
        self.retries = int(options.get("retries", 3))
        self.backoff = float(options.get("backoff", 0.5))
        self.wanted = set(options.get("events", ["permission.asked"]))
        self.http = httpx.Client(
            timeout=float(options.get("timeout", 5.0)), headers=dict(options.get("headers", {}))
        )
        self.delivered = 0
        self.failed = 0

    def on_stop(self) -> None:
        http = getattr(self, "http", None)  # absent if on_start refused the options
        if http is not None:
            http.close()

    def on_event(self, event: Event) -> None:
        if event.type == LAGGED:
            log.warning("webhook fell behind: %s events dropped", event.properties["dropped"])
            return
        if event.type not in self.wanted:
            return
        body = {**wire.event(event), "directory": event.directory}
        delay = self.backoff
        for attempt in range(self.retries + 1):
            if self._deliver(body):
                self.delivered += 1
                return
            if attempt < self.retries:
                time.sleep(delay)  # this plugin's own thread: nobody else waits
                delay *= 2
        self.failed += 1
        log.warning("webhook gave up on %s after %d attempts", event.id, self.retries + 1)

    def _deliver(self, body: dict[str, object]) -> bool:
        """One attempt; True when delivered or refused for good (4xx)."""
        try:
            response = self.http.post(self.url, json=body)
        except httpx.HTTPError as exc:
            log.info("webhook attempt failed: %s", exc)
            return False
        if response.status_code < 300:
            return True
        if response.status_code < 500:
            log.warning("webhook refused with %s; not retried", response.status_code)
            return True
        return False

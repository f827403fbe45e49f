"""``agentactors.plugins.Plugin``: a plugin is a supervised actor named ``plugin:<name>``.

Write one by subclassing and overriding any of the hooks::

    class Notify(Plugin):
        events = ["permission.asked"]          # the on_event filter (None: all)

        def on_event(self, event):              # runs in this plugin's own thread
            print("asked:", event.properties["patterns"])

        def check_permission(self, request):    # the policy hook (optional)
            if request.permission == "read":
                return "allow"
            return None                         # no opinion: humans decide

Hooks run in the plugin's thread, one at a time, and may use ``self.client`` (a blocking
in-process :class:`~agentactors.client.Client` whose replies are recorded as
``decidedBy: {kind: plugin, name: <name>}``) — also from ``on_start``: the core services
never wait on a plugin, so no cycle can form.  A hook that raises crashes the plugin; its
supervisor restarts it (at most ``restart`` times in ``within`` seconds).  A slow plugin
delays nobody: its events wait in its own bounded buffer, and past ``event_buffer`` it
gets ``bus.lagged`` and loses the oldest.  ``check_permission`` answers ``"allow"``,
``"deny"``, ``("deny", reason)`` or None; raising or taking longer than the policy time
limit decides nothing.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import attrs

from agentactors.actors import Closed, Subscription, api, subscribe_now
from agentactors.actors.messages import Evaluate
from agentactors.actors.runtime import Service, handles
from agentactors.model import Decider, Event, PermissionRequest

DRAIN_BATCH = 64
"""Events handled per drain message before other messages (policy asks) get a turn."""


@attrs.frozen
class _Drain:
    pass


class Plugin(Service):
    """Base class of plugins.  See the module docstring for the hooks."""

    may_block = True  # hooks may call services; services never wait on plugins
    name: ClassVar[str] = ""
    """The plugin's name (``plugin:<name>``); default: the class name in kebab-case."""
    events: ClassVar[Iterable[str] | None] = None
    """Event types ``on_event`` receives; None for all."""
    event_buffer: ClassVar[int] = 1024

    def __init__(
        self, *, plugin_name: str, directory: str, options: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__()
        self.plugin_name = plugin_name
        self.directory = directory
        self.options: dict[str, Any] = dict(options or {})
        from agentactors.client import Client  # noqa: PLC0415 - not on serve's start-up path

        self.client = Client.in_process(decided_by=Decider("plugin", name=plugin_name))
        self._subscription: Subscription | None = None
        self._nudge_lock = threading.Lock()
        self._nudged = False

    @classmethod
    def default_name(cls) -> str:
        if cls.name:
            return cls.name
        return re.sub(r"(?<!^)(?=[A-Z])", "-", cls.__name__).lower()

    @classmethod
    def has_policy(cls) -> bool:
        return cls.check_permission is not Plugin.check_permission

    # --- hooks (override) -------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """An event of the ``events`` types was published."""

    def check_permission(self, request: PermissionRequest) -> Any:
        """Decide ``request`` before humans see it: "allow", "deny", ("deny", why), None."""
        return None

    # --- machinery --------------------------------------------------------------------

    def setup(self) -> None:
        if type(self).on_event is Plugin.on_event:
            return
        self._subscription = Subscription(self.events, maxlen=self.event_buffer, notify=self._nudge)
        subscribe_now(self._subscription)  # before any event published after we started

    def teardown(self) -> None:
        if self._subscription is not None:
            api.unsubscribe(self._subscription)

    def _nudge(self) -> None:
        """Called on every offer (in the publishing thread); posts at most one drain at a
        time."""
        with self._nudge_lock:
            if self._nudged:
                return
            self._nudged = True
        self.tell_self(_Drain())

    @handles(_Drain)
    def _drain(self, _: _Drain) -> None:
        with self._nudge_lock:
            self._nudged = False
        subscription = self._subscription
        if subscription is None:
            return
        for _count in range(DRAIN_BATCH):
            try:
                event = subscription.get_nowait()
            except Closed:
                return
            if event is None:
                return
            self.on_event(event)
        self._nudge()  # more left: come back after whatever else is queued

    @handles(Evaluate)
    def _evaluate(self, message: Evaluate) -> Any:
        return self.check_permission(message.request)

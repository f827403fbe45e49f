"""The actors: ``permission`` (sessions and their requests), ``bus`` and ``store``, started
and stopped together, and ``api``, the in-process operations on them.

Below this package's own modules lie ``runtime/`` (the actor runtime) and ``store/``
(state and persistence); it imports ``agentactors.model`` and ``agentactors.policy``,
and nothing from ``agentactors.client``, ``http`` or ``plugins``.  See
``design/actor-map.md``.
"""

from . import api, messages
from ._lifecycle import start_services, stop_services
from ._permission_messages import MAX_TIMEOUT, PERMISSION
from ._subscription import LAGGED, Closed, Subscription
from .bus import BUS, make_event, subscribe_now

__all__ = [
    "BUS",
    "LAGGED",
    "MAX_TIMEOUT",
    "PERMISSION",
    "Closed",
    "Subscription",
    "api",
    "make_event",
    "messages",
    "start_services",
    "stop_services",
    "subscribe_now",
]

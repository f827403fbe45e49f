"""Plugins: supervised actors that follow events and may decide requests."""

from ._host import (
    PLUGINS,
    Loaded,
    PluginHostActor,
    PluginSpec,
    Status,
    discover,
    load_class,
    start_plugins,
)
from ._plugin import Plugin

__all__ = [
    "PLUGINS",
    "Loaded",
    "Plugin",
    "PluginHostActor",
    "PluginSpec",
    "Status",
    "discover",
    "load_class",
    "start_plugins",
]

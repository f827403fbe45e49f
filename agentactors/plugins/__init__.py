"""Plugins: supervised actors that follow events and may decide requests."""

from ._host import PLUGINS, Loaded, PluginSpec, discover, start_plugins
from ._plugin import Plugin

__all__ = ["PLUGINS", "Loaded", "Plugin", "PluginSpec", "discover", "start_plugins"]

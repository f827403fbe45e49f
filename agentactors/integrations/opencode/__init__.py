"""OpenCode: the plugin file shipped with the package (agentactors.js here) and its
installer.

The plugin forwards each OpenCode ``permission.asked`` event to the server as a native
ask and answers OpenCode over its own HTTP reply route (design/opencode.md).
"""

from ._install import MARK_LINE, PLUGIN_NAME, opencode, plugin_source, plugins_directory

__all__ = ["MARK_LINE", "PLUGIN_NAME", "opencode", "plugin_source", "plugins_directory"]

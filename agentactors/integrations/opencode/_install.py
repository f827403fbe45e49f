"""``agentactors install opencode``: the plugin file, written into an OpenCode plugins
directory.

OpenCode loads every file in ``~/.config/opencode/plugins/`` (``--user``, the default;
under ``$XDG_CONFIG_HOME`` when set) and in the project's ``.opencode/plugins/``
(``--project``).  The file is the plugin shipped with the package, its default server
URL set to ``--url``.  Installing again changes nothing; an older copy of our plugin is
replaced; a different file under the same name is left alone (InstallError).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from agentactors.integrations import DEFAULT_URL, Change, InstallError, InstallOptions, Plan

PLUGIN_NAME = "agentactors.js"
MARK_LINE = "// agentactors: OpenCode permission asks"  # every version of ours starts so
URL_LINE = 'const DEFAULT_URL = "{url}"'
NEXT = (
    "OpenCode loads the plugin when it next starts. $AGENTACTORS_URL in OpenCode's "
    "environment overrides the server's URL; $AGENTACTORS_SERVER_PASSWORD is sent when "
    "the server has a password."
)


def plugin_source(url: str = DEFAULT_URL) -> str:
    """The plugin shipped in this package, asking the server at ``url`` by default."""
    text = resources.files(__package__ or __name__).joinpath(PLUGIN_NAME).read_text("utf-8")
    shipped = URL_LINE.format(url=DEFAULT_URL)
    if shipped not in text:
        raise InstallError(f"the shipped {PLUGIN_NAME} has no line {shipped!r}")
    return text.replace(shipped, URL_LINE.format(url=url.replace('"', "%22")), 1)


def plugins_directory(options: InstallOptions) -> Path:
    """Where OpenCode looks for plugins: the user's config directory, or the project's."""
    if options.scope == "project":
        return options.project / ".opencode" / "plugins"
    config = os.environ.get("XDG_CONFIG_HOME") or str(options.home / ".config")
    return Path(config) / "opencode" / "plugins"


def opencode(options: InstallOptions) -> Plan:
    """The plugin file to write.  Raises InstallError for ``--http`` or ``--command``
    (OpenCode takes a plugin, not hooks), ``--fail closed`` (the plugin has no fail
    mode), and when a different file is in the way."""
    if options.transport is not None:
        raise InstallError(f"opencode takes a plugin, not a hook: leave out --{options.transport}")
    if options.fail == "closed":
        raise InstallError(
            "--fail applies to command hooks: the plugin without the server leaves "
            "OpenCode's own prompt; nothing was written"
        )
    path = plugins_directory(options) / PLUGIN_NAME
    after = plugin_source(options.url)
    try:
        before: str | None = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        before = None
    except (OSError, UnicodeDecodeError) as exc:
        raise InstallError(f"cannot read {path}: {exc}") from None
    if before is not None and not before.startswith(MARK_LINE):
        raise InstallError(
            f"{path} exists and is not the agentactors plugin: left as it is "
            "(move it away to install ours)"
        )
    return Plan((Change(path, before, after),), (NEXT,))

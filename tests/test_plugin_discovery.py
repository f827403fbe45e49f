"""Where plugins come from: config specs (module and file), plugin folders, bad specs."""

from __future__ import annotations

from pathlib import Path

from agentactors.actors._lifecycle import RunningServices
from agentactors.actors.runtime import registry
from agentactors.plugins import discover, start_plugins
from agentactors.policy import load_config

PLUGIN_FILE = """
from agentactors.plugins import Plugin

class {name}(Plugin):
    def on_start(self):
        self.greeting = self.options.get("greeting", "hi")
"""


def test_discover_from_config_files_and_folder(tmp_path: Path, services: RunningServices) -> None:
    """A config's "./file.py:Class" (with options) and .agentactors/plugins/*.py all start;
    a bad spec is reported, not fatal."""
    (tmp_path / "local.py").write_text(PLUGIN_FILE.format(name="FromConfig"))
    folder = tmp_path / ".agentactors" / "plugins"
    folder.mkdir(parents=True)
    (folder / "dropped.py").write_text(PLUGIN_FILE.format(name="FromFolder"))
    config_file = tmp_path / "agentactors.toml"
    config_file.write_text(
        'plugins = [["./local.py:FromConfig", {greeting = "hello"}], "no.such.module:Nope",'
        ' "agentactors.plugins.auto_approve:AutoApprove"]\n'
    )
    config = load_config(config_file, user_config=False)
    specs = discover(config.plugins, str(tmp_path))
    assert [s.spec for s in specs][:2] == [
        f"{tmp_path / 'local.py'}:FromConfig",
        "no.such.module:Nope",
    ]
    loaded = start_plugins(config.plugins, str(tmp_path))
    assert set(loaded.started) == {
        "plugin:from-config",
        "plugin:from-folder",
        "plugin:auto-approve",
    }
    assert loaded.policies == ("plugin:auto-approve",)
    (failed_spec, why) = loaded.failed[0]
    assert failed_spec == "no.such.module:Nope"
    assert "ModuleNotFoundError" in why
    plugin = registry.resolve("plugin:from-config")
    assert plugin.options == {"greeting": "hello"}  # type: ignore[attr-defined]

"""The ``plugins`` service: finds plugins, starts each as ``plugin:<name>``.

Sources, in this order (a name seen twice keeps the first; the others are reported):
1. config: ``plugins = ["pkg.module:Class", "./file.py:Class", ["spec", {options}]]``,
   files relative to the config file that declared them;
2. the entry point group ``agentactors.plugins`` (each entry point names a class);
3. ``<directory>/.agentactors/plugins/*.py``: every ``Plugin`` subclass defined there.

Each plugin is a named singleton with its own supervision (``RestartPolicy``).  After
starting them the host tells ``permission`` which ones have a policy hook.  A plugin that
cannot be loaded (bad spec, import error, not a Plugin) is reported in :class:`Loaded`
and in the log; it does not stop the server.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from agentactors.actors import PERMISSION
from agentactors.actors.messages import SetPolicies
from agentactors.actors.runtime import (
    Request,
    RestartPolicy,
    Service,
    call,
    handles,
    registry,
    tell,
)
from agentactors.model import AlreadyStarted

from ._plugin import Plugin

log = logging.getLogger(__name__)

PLUGINS = "plugins"
ENTRY_POINT_GROUP = "agentactors.plugins"
PLUGIN_DIR = ".agentactors/plugins"


@attrs.frozen
class PluginSpec:
    spec: str  # "pkg.module:Class", "/abs/file.py:Class", "/abs/file.py" or "entry:<name>"
    options: dict[str, Any] = attrs.field(factory=dict)
    plugin_class: type[Plugin] | None = None  # already loaded (entry points, files)


@attrs.frozen
class Loaded:
    """What the host started, and what it could not."""

    started: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]  # (spec, why)
    policies: tuple[str, ...]


@attrs.frozen
class Status(Request["Loaded"]):
    pass


def load_class(spec: str) -> type[Plugin]:
    """Import ``module:Class`` or ``path.py:Class``.  Raises ImportError/TypeError."""
    target, _, attr = spec.rpartition(":")
    if not target:
        raise ImportError(f"{spec!r}: expected 'module:Class' or 'file.py:Class'")
    module = _load_file(Path(target)) if target.endswith(".py") else importlib.import_module(target)
    plugin_class = getattr(module, attr, None)
    if not (isinstance(plugin_class, type) and issubclass(plugin_class, Plugin)):
        raise TypeError(f"{spec!r} is not an agentactors.Plugin subclass")
    return plugin_class


def _load_file(path: Path) -> Any:
    name = f"agentactors_plugin_{abs(hash(str(path.resolve())))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def discover(
    declared: Sequence[tuple[str, dict[str, Any], str]], directory: str
) -> list[PluginSpec]:
    """Plugin specs from config (``(spec, options, base_dir)``), entry points, files."""
    specs = []
    for declared_spec, options, base in declared:
        target, sep, attr = declared_spec.rpartition(":")
        spec = declared_spec
        if target.startswith((".", "/")) or target.endswith(".py"):
            spec = f"{(Path(base) / target).resolve()}{sep}{attr}"
        specs.append(PluginSpec(spec, dict(options)))
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        specs.append(PluginSpec(f"{entry.value}", {}))
    folder = Path(directory) / PLUGIN_DIR
    if folder.is_dir():
        for file in sorted(folder.glob("*.py")):
            specs.append(PluginSpec(str(file)))
    return specs


class PluginHostActor(Service):
    """Starts and lists plugins; never waits on them."""

    def __init__(
        self,
        *,
        specs: Sequence[PluginSpec],
        directory: str,
        policy_timeout: float = 5.0,
        restart: RestartPolicy | None = None,
    ) -> None:
        super().__init__()
        self._specs = list(specs)
        self._directory = directory
        self._policy_timeout = policy_timeout
        self._restart = restart or RestartPolicy(max_restarts=5, within=10.0)
        self._loaded = Loaded((), (), ())

    def setup(self) -> None:
        started: list[str] = []
        failed: list[tuple[str, str]] = []
        policies: list[str] = []
        for spec in self._specs:
            try:
                classes = self._classes(spec)
            except Exception as exc:  # noqa: BLE001 - a broken plugin never stops the server
                log.warning("plugin %s not loaded: %s", spec.spec, exc)
                failed.append((spec.spec, f"{type(exc).__name__}: {exc}"))
                continue
            for plugin_class in classes:
                name = f"plugin:{plugin_class.default_name()}"
                try:
                    registry.start_singleton(
                        name,
                        plugin_class,
                        plugin_name=plugin_class.default_name(),
                        directory=self._directory,
                        options=spec.options,
                        restart=self._restart,
                    )
                except AlreadyStarted:
                    failed.append((spec.spec, f"a plugin named {name!r} is already running"))
                    continue
                started.append(name)
                if plugin_class.has_policy():
                    policies.append(name)
        self._loaded = Loaded(tuple(started), tuple(failed), tuple(policies))
        tell(PERMISSION, SetPolicies(tuple(policies), self._policy_timeout))

    def _classes(self, spec: PluginSpec) -> list[type[Plugin]]:
        if spec.plugin_class is not None:
            return [spec.plugin_class]
        if spec.spec.endswith(".py"):  # a plugin file: every Plugin subclass defined in it
            module = _load_file(Path(spec.spec))
            return [
                value
                for value in vars(module).values()
                if isinstance(value, type)
                and issubclass(value, Plugin)
                and value is not Plugin
                and value.__module__ == module.__name__
            ]
        return [load_class(spec.spec)]

    def teardown(self) -> None:
        for name in self._loaded.started:
            try:
                registry.stop(name, timeout=2.0)
            except Exception:  # noqa: BLE001 - already gone
                pass

    @handles(Status)
    def _status(self, _: Status) -> Loaded:
        return self._loaded


def start_plugins(
    declared: Sequence[tuple[str, dict[str, Any], str]],
    directory: str,
    *,
    extra: Sequence[PluginSpec] = (),
    policy_timeout: float = 5.0,
) -> Loaded:
    """Start the ``plugins`` host with everything :func:`discover` finds plus ``extra``.

    Blocks (up to 5 s) until every plugin is started and ``permission`` knows the policy
    plugins, so an ask made after this returns sees them.  Call it from a plain thread
    (server start-up, a script), not from a service.

    Raises :class:`AlreadyStarted` if a host is running in this process.
    """
    specs = [*discover(declared, directory), *extra]
    registry.start_singleton(
        PLUGINS, PluginHostActor, specs=specs, directory=directory, policy_timeout=policy_timeout
    )
    loaded: Loaded = call(PLUGINS, Status())  # after setup(), which posted SetPolicies
    return loaded

"""Configuration: TOML layers merged into one :class:`Config`.

Layers, each appending its rules after the earlier ones (so later layers win ties):
built-in defaults, the user's ``config.toml`` in the platform config dir
(``agentactors/``), the project's ``agentactors.toml`` in the directory in scope (read
per directory, cached by file identity, size and modification time), ``--config FILE``,
then session rules.

A file that does not parse, a key this module does not know (with the nearest known one
suggested), a rule naming an unknown action, or a setting of the wrong type raises
:class:`ConfigError` naming the file, the line and the key.  A project file may set
``[permission]`` only: it sits in a directory any client can name and an agent can
write, so plugins (code) and server-wide settings there are refused, not ignored.
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import os
import re
import stat
import threading
import time
import tomllib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import platformdirs

from agentactors.model import (
    ACTIONS,
    MAX_METADATA_BYTES,
    MAX_RULES,
    ConfigError,
    InvalidRequest,
    Rule,
)

PROJECT_FILE = "agentactors.toml"
MAX_FILE_BYTES = 1 << 20
"""A configuration file larger than this is refused unread."""

DEFAULT_RULES: tuple[Rule, ...] = ()
"""Built-in rules: none; a request no rule matches asks."""


@attrs.frozen
class Config:
    """Everything the services read from configuration.  Immutable; cheap to pass."""

    rules_before_project: tuple[Rule, ...] = DEFAULT_RULES
    rules_after_project: tuple[Rule, ...] = ()
    request_timeout: float | None = None  # seconds a pending request lives; None: forever
    reject_cascade: bool = True
    bus_buffer: int = 1024  # events a subscriber may fall behind before bus.lagged
    bus_history: int = 1024  # recent events kept for Last-Event-ID replay
    stream_buffer_bytes: int = 4 << 20  # [events] bytes an SSE stream may hold unsent
    max_streams: int = 1000  # [events] SSE streams open at once; past it a 503
    heartbeat: float = 10.0
    policy_timeout: float = 5.0  # seconds policy plugins get to decide an ask
    store_synchronous: str = "normal"  # [store] synchronous: normal | full (design/state.md)
    event_retention: int = 10_000  # [store] event_retention: events the log keeps
    reject_pending_on_exit: bool = False  # [requests] reject_pending_on_exit
    max_metadata_bytes: int = MAX_METADATA_BYTES  # [requests] max_metadata_bytes
    hook_hold: float = 540.0  # [hooks] hold: seconds an agent's hook waits for an answer
    hook_pre_tool_use_expired: str = "ask"  # [hooks] pre_tool_use_expired: ask | deny
    hook_permission_request_expired: str = "none"  # [hooks] permission_request_expired
    plugins: tuple[Any, ...] = ()
    sources: tuple[str, ...] = ()
    read_project_files: bool = True

    def rules_for(self, directory: str | None) -> tuple[Rule, ...]:
        """The config rules in force for ``directory`` (without session rules).

        Reads the directory's project file when it changed since the last call (a stat
        otherwise).  Raises:
            ConfigError: the project file does not load (file, line, key).
        """
        project = _project_rules(directory) if directory and self.read_project_files else ()
        return self.rules_before_project + project + self.rules_after_project

    def rules_without_project(self) -> tuple[Rule, ...]:
        """The config rules of every directory: the user's and ``--config``'s."""
        return self.rules_before_project + self.rules_after_project


def default_data_dir() -> str:
    """The platform's user data dir for agentactors (``platformdirs``)."""
    return platformdirs.user_data_dir("agentactors")


def load_config(
    config_file: str | os.PathLike[str] | None = None,
    *,
    user_config: bool = True,
    read_project_files: bool = True,
) -> Config:
    """Read the user's config and ``config_file`` into a :class:`Config`.

    Raises:
        ConfigError: a file does not parse or holds an invalid key (file, line, key).
    """
    layers: list[Path] = []
    if user_config:
        user_file = Path(platformdirs.user_config_dir("agentactors")) / "config.toml"
        if user_file.is_file():
            layers.append(user_file)
    settings: dict[str, Any] = {}
    before: list[Rule] = list(DEFAULT_RULES)
    after: list[Rule] = []
    plugins: list[Any] = []
    sources: list[str] = []
    for path, target in [(p, before) for p in layers] + (
        [(Path(config_file), after)] if config_file is not None else []
    ):
        data, text = _read_toml(path)
        _check_keys(data, str(path), text, project=False)
        target.extend(rules_from_table(data.get("permission", {}), str(path), text))
        plugins.extend(_plugins(data, path, text))
        settings.update(_settings(data, path, text))
        sources.append(str(path))
    return Config(
        rules_before_project=tuple(before),
        rules_after_project=tuple(after),
        plugins=tuple(plugins),
        sources=tuple(sources),
        read_project_files=read_project_files,
        **settings,
    )


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    return _parse(path, _read(path))


def _read(path: Path) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_FILE_BYTES`.  Never blocks on
    what is not a regular file (a FIFO, a device, a directory): those are refused."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}", file=str(path)) from exc
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):  # before fdopen: it refuses dirs
            raise ConfigError(f"{path}: not a regular file", file=str(path))
        with os.fdopen(descriptor, "rb", closefd=False) as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}", file=str(path)) from exc
    finally:
        os.close(descriptor)
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES} bytes", file=str(path))
    return raw


def _parse(path: Path, raw: bytes) -> tuple[dict[str, Any], str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{bad_line}: not UTF-8 text (byte {exc.start})", file=str(path), line=bad_line
        ) from None
    try:
        return tomllib.loads(text), text
    except RecursionError:  # arrays or inline tables nested deeper than the parser goes
        raise ConfigError(f"{path}: not valid TOML: nested too deeply", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = int(at[1]) if at else None
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"{where}: not valid TOML: {exc}", file=str(path), line=line) from None


def _line_of(text: str, key: str) -> int | None:
    """The line that sets ``key`` (its last part), else the table header naming it."""
    name = re.escape(key.rsplit(".", 1)[-1])
    assignment = re.compile(rf"^\s*(?:\"{name}\"|'{name}'|{name})\s*=")
    header = re.compile(rf"^\s*\[\[?\s*{re.escape(key)}\s*[.\]]")
    lines = text.splitlines()
    for pattern in (assignment, header):
        for number, line in enumerate(lines, start=1):
            if pattern.match(line):
                return number
    return None


def _error(path: str, text: str, key: str, problem: str) -> ConfigError:
    line = _line_of(text, key)
    where = f"{path}:{line}" if line else path
    return ConfigError(f"{where}: key {key!r}: {problem}", file=path, line=line, key=key)


def rules_from_table(table: Any, path: str, text: str = "") -> list[Rule]:
    """Rules from a ``[permission]`` table: ``kind = action`` or ``[permission.kind]``
    with ``"pattern" = action`` (key order is precedence)."""
    if not isinstance(table, Mapping):
        raise _error(path, text, "permission", "must be a table")
    rules: list[Rule] = []
    for kind, value in table.items():
        if isinstance(value, str):
            rules.append(_rule(kind, "*", value, path=path, text=text, key=f"permission.{kind}"))
        elif isinstance(value, Mapping):
            for pattern, action in value.items():
                key = f"permission.{kind}.{pattern}"
                rules.append(_rule(kind, pattern, action, path=path, text=text, key=key))
        else:
            raise _error(path, text, f"permission.{kind}", "must be an action or a table")
    return rules


def _rule(kind: str, pattern: str, action: Any, *, path: str, text: str, key: str) -> Rule:
    if action not in ACTIONS:
        raise _error(path, text, key, f"unknown action {action!r} (use allow, ask or deny)")
    return Rule(kind, pattern, action, source=path)


def _plugins(data: Mapping[str, Any], path: Path, text: str) -> list[Any]:
    """``(spec, options, base_dir)`` per declared plugin; the plugin host imports them."""
    plugins = data.get("plugins", [])
    if not isinstance(plugins, list):
        raise _error(str(path), text, "plugins", "must be a list")
    declared: list[Any] = []
    for item in plugins:
        if isinstance(item, str):
            spec, options = item, {}
        elif isinstance(item, list) and len(item) == 2 and isinstance(item[1], Mapping):
            spec, options = item
        else:
            raise _error(str(path), text, "plugins", f"bad entry {item!r}")
        declared.append((spec, dict(options), str(path.parent)))
    return declared


_SETTINGS: dict[str, tuple[str, str, type | tuple[type, ...]]] = {
    "requests.timeout": ("request_timeout", "a number of seconds", (int, float)),
    "requests.reject_cascade": ("reject_cascade", "true or false", bool),
    "events.buffer": ("bus_buffer", "a whole number", int),
    "events.history": ("bus_history", "a whole number", int),
    "events.heartbeat": ("heartbeat", "a number of seconds", (int, float)),
    "events.stream_buffer_bytes": ("stream_buffer_bytes", "a whole number", int),
    "events.max_streams": ("max_streams", "a whole number", int),
    "policy.timeout": ("policy_timeout", "a number of seconds", (int, float)),
    "requests.reject_pending_on_exit": ("reject_pending_on_exit", "true or false", bool),
    "store.synchronous": ("store_synchronous", '"normal" or "full"', str),
    "store.event_retention": ("event_retention", "a whole number", int),
    "requests.max_metadata_bytes": ("max_metadata_bytes", "a whole number of bytes", int),
    "hooks.hold": ("hook_hold", "a number of seconds", (int, float)),
    "hooks.pre_tool_use_expired": ("hook_pre_tool_use_expired", '"ask" or "deny"', str),
    "hooks.permission_request_expired": (
        "hook_permission_request_expired",
        '"none" or "deny"',
        str,
    ),
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "store.synchronous": ("normal", "full"),
    "hooks.pre_tool_use_expired": ("ask", "deny"),
    "hooks.permission_request_expired": ("none", "deny"),
}


def _settings(data: Mapping[str, Any], path: Path, text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dotted, (attr, kind, types) in _SETTINGS.items():
        table, key = dotted.split(".")
        section = data.get(table, {})
        if key not in section:
            continue
        value: Any = section[key]
        if not isinstance(value, types) or (types is not bool and isinstance(value, bool)):
            raise _error(str(path), text, dotted, f"must be {kind}")
        if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
            raise _error(str(path), text, dotted, "must be positive")
        if dotted in _CHOICES and value not in _CHOICES[dotted]:
            raise _error(str(path), text, dotted, f"must be {kind}")
        out[attr] = value
    return out


_TABLES: dict[str, tuple[str, ...]] = {}
for _dotted in _SETTINGS:
    _table, _key = _dotted.split(".")
    _TABLES[_table] = (*_TABLES.get(_table, ()), _key)
_TOP_LEVEL = ("permission", "plugins", *_TABLES)
_PROJECT_KEYS = ("permission",)


def _check_keys(data: Mapping[str, Any], path: str, text: str, *, project: bool) -> None:
    """Refuse keys this module does not know, and, in a project file, all but
    ``[permission]``.  Raises ConfigError naming the key and the nearest known one."""
    for key, value in data.items():
        if key not in _TOP_LEVEL:
            raise _error(path, text, key, _unknown(key, _TOP_LEVEL))
        if project and key not in _PROJECT_KEYS:
            raise _error(
                path,
                text,
                key,
                "a project file may set [permission] only; set this in the user config "
                "or the --config file",
            )
        if key in _TABLES:
            if not isinstance(value, Mapping):
                raise _error(path, text, key, "must be a table")
            for name in value:
                if name not in _TABLES[key]:
                    raise _error(path, text, f"{key}.{name}", _unknown(name, _TABLES[key]))


def _unknown(key: str, known: Sequence[str]) -> str:
    near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]!r}?" if near else f" (known: {', '.join(known)})"
    return f"unknown key{hint}"


# --- project layer: read per directory, cached by file identity and content -------------

_Stamp = tuple[int, int, int, int, int]  # device, inode, size, mtime and ctime in ns
_Loaded = tuple[Rule, ...] | ConfigError


@attrs.frozen
class _Cached:
    stamp: _Stamp
    digest: bytes  # of the content the result was made from
    loaded: _Loaded


_PROJECT_CACHE_SIZE = 1024
_RACY_NS = 2_000_000_000
"""A file changed this recently may change again within its mtime's granularity (a
few ms on most filesystems) without its stamp changing: its content is compared too."""
_project_cache: OrderedDict[str, _Cached] = OrderedDict()
_project_lock = threading.Lock()


def _project_rules(directory: str) -> tuple[Rule, ...]:
    """The rules of ``directory``'s project file (none if it has none).

    A stat per call; the file is read again when its identity, size, mtime or ctime changed,
    or when it changed in the last two seconds (then it is parsed again only if its
    content differs).  A file that failed to load fails again from the cache until it
    changes.  Raises ConfigError.
    """
    path = os.path.join(directory, PROJECT_FILE)
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError, ValueError):  # none, or not a path (NUL)
        return ()
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:  # no such directory can exist
            return ()
        # a symlink loop, a permission denied: a file is there and cannot be read
        raise ConfigError(f"{path}: cannot read: {exc.strerror}", file=path) from None
    stamp = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    with _project_lock:
        cached = _project_cache.get(path)
    racy = time.time_ns() - info.st_mtime_ns < _RACY_NS
    if cached is None or cached.stamp != stamp or racy:
        cached = _load_project(Path(path), stamp, cached)
    with _project_lock:
        _project_cache[path] = cached
        _project_cache.move_to_end(path)
        while len(_project_cache) > _PROJECT_CACHE_SIZE:
            _project_cache.popitem(last=False)
    if isinstance(cached.loaded, ConfigError):
        raise ConfigError(cached.loaded.message, **cached.loaded.fields)  # a fresh traceback
    return cached.loaded


def _load_project(path: Path, stamp: _Stamp, cached: _Cached | None) -> _Cached:
    try:
        raw = _read(path)
    except ConfigError as exc:
        return _Cached(stamp, b"", exc)
    digest = hashlib.blake2b(raw, digest_size=16).digest()
    if cached is not None and cached.digest == digest:
        return _Cached(stamp, digest, cached.loaded)
    try:
        loaded: _Loaded = _project_file_rules(path, raw)
    except ConfigError as exc:
        loaded = exc
    return _Cached(stamp, digest, loaded)


def _project_file_rules(path: Path, raw: bytes) -> tuple[Rule, ...]:
    data, text = _parse(path, raw)
    _check_keys(data, str(path), text, project=True)
    rules = tuple(rules_from_table(data.get("permission", {}), str(path), text))
    if len(rules) > MAX_RULES:
        raise ConfigError(
            f"{path}: {len(rules)} rules; a project file may hold at most {MAX_RULES}",
            file=str(path),
        )
    return rules


def parse_ruleset(value: Any, *, field: str = "permission") -> tuple[Rule, ...]:
    """Session rules in OpenCode's shape: ``[{"permission", "pattern", "action"}, ...]``.

    Raises:
        InvalidRequest: naming the field and index of the first bad entry.
    """
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise InvalidRequest(f"{field} must be a list of rules", field=field)
    rules = []
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidRequest(f"{where} must be an object", field=where)
        for key in ("permission", "pattern", "action"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise InvalidRequest(f"{where}.{key} must be a non-empty string", field=where)
        if item["action"] not in ACTIONS:
            raise InvalidRequest(
                f"{where}.action must be allow, ask or deny, not {item['action']!r}",
                field=f"{where}.action",
            )
        rules.append(Rule(item["permission"], item["pattern"], item["action"], source="session"))
    return tuple(rules)

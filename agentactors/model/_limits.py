"""The bounds of one input, and the checks that hold the services to them.

Every service checks what it is sent, whatever the caller (HTTP, plugin, command line,
console): a value outside these bounds is an :class:`InvalidRequest` naming the field,
never a crash.  The HTTP layer states the same bounds in its schemas, so most bad input
is refused before it reaches an actor.  Pure functions; none blocks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ._errors import InvalidRequest
from ._models import ACTIONS, Rule

MAX_DEPTH = 64
"""Nesting of JSON arrays and objects (a body, a request's metadata)."""
MAX_METADATA_BYTES = 64 * 1024
"""A request's metadata, as UTF-8 JSON (configurable: ``[requests] max_metadata_bytes``)."""
MAX_PATTERN = 16 * 1024
"""Characters of one pattern: asked, saved ``always``, or a rule's."""
MAX_PATTERNS = 256
"""Patterns (and ``always`` patterns) of one request."""
MAX_RULES = 1024
"""Rules of one session."""
MAX_NAME = 256
"""Characters of a permission kind."""
MAX_TITLE = 1024
"""Characters of a session title."""
MAX_DIRECTORY = 4096
"""Characters of a directory (the usual ``PATH_MAX``)."""
MAX_MESSAGE = 64 * 1024
"""Characters of a reply's message to the asker."""

_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def check_text(value: Any, field: str, *, limit: int, empty: bool = False) -> str:
    """``value`` if it is a string of at most ``limit`` characters that UTF-8 can hold
    (no lone surrogate), non-empty unless ``empty``.  Raises InvalidRequest."""
    if not isinstance(value, str):
        raise InvalidRequest(f"{field} must be a string", field=field)
    if not value and not empty:
        raise InvalidRequest(f"{field} must not be empty", field=field)
    if len(value) > limit:
        raise InvalidRequest(
            f"{field} is {len(value)} characters long; at most {limit} are allowed", field=field
        )
    _unicode(value, field)
    return value


def _unicode(value: str, field: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest(
            f"{field} holds a lone surrogate, which is not text (UTF-8 cannot hold it)",
            field=field,
        ) from None


def check_patterns(values: Any, field: str) -> tuple[str, ...]:
    """``values`` as a tuple of at most :data:`MAX_PATTERNS` non-empty patterns of at
    most :data:`MAX_PATTERN` characters.  Raises InvalidRequest naming the first bad one."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidRequest(f"{field} must be a list of strings", field=field)
    patterns = tuple(values)
    if len(patterns) > MAX_PATTERNS:
        raise InvalidRequest(
            f"{field} holds {len(patterns)} patterns; at most {MAX_PATTERNS} are allowed",
            field=field,
        )
    for index, pattern in enumerate(patterns):
        check_text(pattern, f"{field}[{index}]", limit=MAX_PATTERN)
    return patterns


def check_directory(value: Any, field: str = "directory") -> str:
    """``value`` normalised, if it is an absolute directory without NUL of at most
    :data:`MAX_DIRECTORY` characters.  Raises InvalidRequest.  Never touches the disk:
    a directory that does not exist (yet) is fine."""
    path = check_text(value, field, limit=MAX_DIRECTORY)
    if "\x00" in path:
        raise InvalidRequest(f"{field} must not contain a NUL character", field=field)
    if not os.path.isabs(path):
        raise InvalidRequest(f"{field} must be an absolute path, not {path[:80]!r}", field=field)
    normal = os.path.normpath(path)
    return "/" + normal.lstrip("/") if normal.startswith("//") else normal


def check_metadata(value: Any, field: str = "metadata", *, limit: int = MAX_METADATA_BYTES) -> int:
    """The UTF-8 JSON size of ``value``, if it is a JSON object nested at most
    :data:`MAX_DEPTH` deep and at most ``limit`` bytes encoded.  So whatever is stored or
    published with it can be encoded.  Raises InvalidRequest."""
    if not isinstance(value, Mapping):
        raise InvalidRequest(f"{field} must be an object", field=field)
    if depth(value) > MAX_DEPTH:
        raise InvalidRequest(f"{field} is nested more than {MAX_DEPTH} levels deep", field=field)
    try:
        size = len(_encode(value).encode("utf-8"))
    except UnicodeEncodeError:  # before ValueError, its base
        raise InvalidRequest(
            f"{field} holds a lone surrogate, which is not text", field=field
        ) from None
    except (TypeError, ValueError, RecursionError) as exc:  # an object, NaN, a cycle
        raise InvalidRequest(f"{field} must be JSON: {exc}", field=field) from None
    if size > limit:
        raise InvalidRequest(
            f"{field} is {size} bytes as JSON; at most {limit} are allowed", field=field
        )
    return size


def depth(data: Any) -> int:
    """How deep ``data`` nests lists, tuples and mappings (a scalar: 0), counted up to
    ``MAX_DEPTH + 1``.  Iterative: never recurses, so any depth is safe to ask about."""
    count = 0
    level = [data] if isinstance(data, Mapping | list | tuple) else []
    while level and count <= MAX_DEPTH:
        count += 1
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, Mapping) else node)
            if isinstance(child, Mapping | list | tuple)
        ]
    return count


def check_rules(rules: Any, field: str = "permission") -> tuple[Rule, ...]:
    """``rules`` as a tuple of at most :data:`MAX_RULES` rules whose kind and pattern
    are bounded text and whose action is allow, ask or deny.  Raises InvalidRequest."""
    if isinstance(rules, str) or not isinstance(rules, Iterable):
        raise InvalidRequest(f"{field} must be a list of rules", field=field)
    checked = tuple(rules)
    if len(checked) > MAX_RULES:
        raise InvalidRequest(
            f"{field} holds {len(checked)} rules; at most {MAX_RULES} are allowed", field=field
        )
    for index, rule in enumerate(checked):
        where = f"{field}[{index}]"
        if not isinstance(rule, Rule):
            raise InvalidRequest(f"{where} must be a rule", field=where)
        check_text(rule.permission, f"{where}.permission", limit=MAX_PATTERN)
        check_text(rule.pattern, f"{where}.pattern", limit=MAX_PATTERN)
        if rule.action not in ACTIONS:
            raise InvalidRequest(
                f"{where}.action must be allow, ask or deny, not {rule.action!r}",
                field=f"{where}.action",
            )
    return checked

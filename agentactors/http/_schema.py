"""A small JSON Schema subset: builders, named components, and one validator.

The route table declares every parameter and body with these schemas; the same objects
are validated here (input) and emitted into the OpenAPI document (``_openapi``), so what
the server accepts and what ``/doc`` says can never drift apart.

Supported keywords: ``type`` (one or a list), ``anyOf``, ``properties``, ``required``,
``additionalProperties`` (bool or schema), ``items``, ``enum``, ``const``, ``minLength``,
``maxLength``, ``pattern``, ``minimum``, ``maximum``, ``exclusiveMinimum``, ``minItems``,
``maxItems`` and ``$ref`` to a component.  Pure functions; nothing blocks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

Schema = Mapping[str, Any]

COMPONENTS: dict[str, Schema] = {}
"""Named schemas, emitted under ``components.schemas`` and resolved by ``$ref``."""

_REF = "#/components/schemas/"
_ID_CHARS = "[0-9A-HJKMNP-TV-Z]{26}"  # the ULID alphabet of agentactors.actors.new_id


class SchemaError(ValueError):
    """A value does not match its schema; ``field`` names where (``tool.callID``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem


def component(name: str, schema: Schema) -> Schema:
    """Register ``schema`` as ``name`` and return a ``$ref`` to it."""
    COMPONENTS[name] = schema
    return {"$ref": _REF + name}


def resolve(schema: Schema) -> Schema:
    """Follow a ``$ref`` to its component (other schemas are returned as they are)."""
    ref = schema.get("$ref")
    return COMPONENTS[ref.removeprefix(_REF)] if ref else schema


# --- builders ----------------------------------------------------------------------------


def string(description: str | None = None, **keywords: Any) -> Schema:
    return _with({"type": "string", **keywords}, description)


def integer(description: str | None = None, **keywords: Any) -> Schema:
    return _with({"type": "integer", **keywords}, description)


def number(description: str | None = None, **keywords: Any) -> Schema:
    return _with({"type": "number", **keywords}, description)


def boolean(description: str | None = None) -> Schema:
    return _with({"type": "boolean"}, description)


def array(items: Schema, description: str | None = None, **keywords: Any) -> Schema:
    return _with({"type": "array", "items": items, **keywords}, description)


def obj(
    properties: Mapping[str, Schema],
    required: tuple[str, ...] = (),
    description: str | None = None,
    **keywords: Any,
) -> Schema:
    """An object; unknown properties are allowed (OpenCode's clients send extras)."""
    out: dict[str, Any] = {"type": "object", "properties": dict(properties), **keywords}
    if required:
        out["required"] = list(required)
    return _with(out, description)


def enum(*values: str, description: str | None = None) -> Schema:
    return _with({"type": "string", "enum": list(values)}, description)


def id_of(prefix: str) -> Schema:
    """An id ``<prefix>_`` plus 26 ULID characters (``ses_``, ``per_``, ``apr_``...)."""
    return {
        "type": "string",
        "pattern": f"^{prefix}_{_ID_CHARS}$",
        "description": f'an id starting with "{prefix}_"',
    }


def _with(schema: dict[str, Any], description: str | None) -> Schema:
    if description:
        schema["description"] = description
    return schema


# --- validation --------------------------------------------------------------------------


def check(schema: Schema, value: Any, field: str) -> None:
    """Raise :class:`SchemaError` naming the first place ``value`` breaks ``schema``."""
    schema = resolve(schema)
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        kind = next((t for t in names if _is(t, value)), None)
        if kind is None:
            raise SchemaError(field, f"must be {' or '.join(_article(t) for t in names)}")
    if "const" in schema and value != schema["const"]:
        raise SchemaError(field, f"must be {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(repr(v) for v in schema["enum"])
        raise SchemaError(field, f"must be one of {choices}, not {value!r}")
    if isinstance(value, str):
        _check_string(schema, value, field)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(schema, value, field)
    elif isinstance(value, list):
        _check_array(schema, value, field)
    elif isinstance(value, dict):
        _check_object(schema, value, field)
    if "anyOf" in schema:  # last: the plain fields are named first
        _check_any(schema["anyOf"], value, field)


def _check_any(alternatives: list[Schema], value: Any, field: str) -> None:
    """Pass if one alternative does; else raise the first alternative's error."""
    errors = []
    for alternative in alternatives:
        try:
            check(alternative, value, field)
        except SchemaError as exc:
            errors.append(exc)
        else:
            return
    raise errors[0]


def _is(kind: str, value: Any) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        )
    return isinstance(value, _PYTHON_TYPES[kind])


_PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "object": dict,
    "array": list,
    "null": type(None),
}


def _article(kind: str) -> str:
    return {"integer": "an integer", "object": "an object", "array": "an array"}.get(
        kind, "null" if kind == "null" else f"a {kind}"
    )


def _check_string(schema: Schema, value: str, field: str) -> None:
    if len(value) < schema.get("minLength", 0):
        raise SchemaError(field, f"must have at least {schema['minLength']} character(s)")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise SchemaError(field, f"must have at most {schema['maxLength']} characters")
    pattern = schema.get("pattern")
    if pattern is not None and not _compiled(pattern).search(value):
        what = schema.get("description") or f"a string matching {pattern}"
        raise SchemaError(field, f"must be {what}, got {value!r}")


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _check_number(schema: Schema, value: float, field: str) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        raise SchemaError(field, f"must be at least {schema['minimum']}")
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        raise SchemaError(field, f"must be more than {schema['exclusiveMinimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        raise SchemaError(field, f"must be at most {schema['maximum']}")


def _check_array(schema: Schema, value: list[Any], field: str) -> None:
    if len(value) < schema.get("minItems", 0):
        raise SchemaError(field, f"must have at least {schema['minItems']} item(s)")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise SchemaError(field, f"must have at most {schema['maxItems']} items")
    items = schema.get("items")
    if items is not None:
        for index, item in enumerate(value):
            check(items, item, f"{field}[{index}]")


def _check_object(schema: Schema, value: dict[str, Any], field: str) -> None:
    prefix = "" if field == "body" else f"{field}."
    for name in schema.get("required", ()):
        if name not in value:
            raise SchemaError(f"{prefix}{name}", "is required")
    properties: Mapping[str, Schema] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            check(properties[name], item, f"{prefix}{name}")
        elif extra is False:
            raise SchemaError(f"{prefix}{name}", "is not a known field")
        elif isinstance(extra, Mapping):
            check(extra, item, f"{prefix}{name}")

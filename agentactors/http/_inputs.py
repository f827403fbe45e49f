"""Reading a request's input: path ids, query strings, JSON bodies, the directory in scope.

msgspec validates against the attrs models of ``_models``; its failures become
:class:`BadInput` (a 400 naming the field).  The decorators also record their model
where quart-schema looks for it, so ``/doc`` documents exactly what is validated.
Nothing here blocks except reading the body (an await on the connection).
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import unquote

import attrs
import msgspec
from quart import request

from agentactors.model import MAX_DEPTH, InvalidRequest, check_directory, depth

from ._errors import BadInput, InputKind
from ._models import CLOSED, PATH_IDS, ULID_ALPHABET, ULID_LENGTH, DirectoryHeader, Scoped
from ._quart_schema import (
    QUART_SCHEMA_HEADERS_ATTRIBUTE,
    QUART_SCHEMA_QUERYSTRING_ATTRIBUTE,
    QUART_SCHEMA_REQUEST_ATTRIBUTE,
    DataSource,
)

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M")

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")


def problem(exc: msgspec.ValidationError, root: str) -> tuple[str, str]:
    """``(field, message)`` for a msgspec failure: ``("tool.callID", "tool.callID:
    required field missing")``.  ``root`` names the whole input (``body``)."""
    text = str(exc)
    path = ""
    at = _AT.search(text)
    if at is not None:
        path, text = at["path"], text[: at.start()]
    missing = _MISSING.match(text)
    if missing is not None:
        path, text = f"{path}.{missing['name']}", "required field missing"
    field = path.lstrip(".") or root
    return field, f"{field}: {text}"


def convert(data: Any, model: type[M], kind: InputKind, *, strict: bool = True) -> M:
    """``data`` as ``model``.  Raises BadInput naming the field."""
    try:
        return msgspec.convert(data, model, strict=strict)
    except msgspec.ValidationError as exc:
        field, message = problem(exc, "body" if kind == "Payload" else "query")
        raise BadInput(message, field=field, kind=kind) from None


def check_path_ids(values: dict[str, Any] | None) -> None:
    """Every path parameter is an id of the kind its name says.  Raises BadInput."""
    for name, value in (values or {}).items():
        meta = PATH_IDS.get(name)
        if meta is not None:
            check_id(name, value, meta, "Params")


def check_id(field: str, value: str, meta: msgspec.Meta, kind: InputKind) -> None:
    """``value`` matches the id pattern of ``meta``.  Raises BadInput naming ``field``
    and what is wrong: the prefix, the length or a character."""
    pattern = meta.pattern or ""
    if re.fullmatch(pattern.strip("^$"), value) is not None:
        return
    prefix = pattern.strip("^").partition("_")[0] + "_"
    rest = value.removeprefix(prefix)
    if not value.startswith(prefix):
        wrong = f"{value[:8]!r} does not start with {prefix!r}"
    elif len(rest) != ULID_LENGTH:
        wrong = f"{len(rest)} characters follow {prefix!r}, not {ULID_LENGTH}"
    else:
        bad = next(c for c in rest if c not in ULID_ALPHABET)
        wrong = f"{bad!r} is not in the id alphabet (0-9 and A-Z without I, L, O, U)"
    message = f"{field}: {wrong}; it must be {meta.description}"
    raise BadInput(message, field=field, kind=kind)


def body(model: type[M]) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """The handler gets the JSON body as ``model`` (keyword ``body``), validated
    strictly: a number is not a string, a string not a number; a closed model refuses
    unknown fields.  The body is read as JSON whatever its content type; no body is
    ``{}``, a body of whitespace is a 400."""

    def decorate(handler: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(handler)
        async def validated(*args: P.args, **kwargs: P.kwargs) -> R:
            raw = await request.get_data(as_text=False)
            data = _json(raw if isinstance(raw, bytes) else raw.encode())
            kwargs["body"] = convert(data, model, "Payload")
            unknown_fields(data, model)
            return await handler(*args, **kwargs)

        setattr(validated, QUART_SCHEMA_REQUEST_ATTRIBUTE, (model, DataSource.JSON))
        return validated

    return decorate


_FORM_ATTRIBUTE = "_agentactors_form"


def takes_form(handler: F) -> F:
    """Mark a handler that reads an HTML form itself (the inbox's login)."""
    setattr(handler, _FORM_ATTRIBUTE, True)
    return handler


async def no_body(handler: Callable[..., Any] | None) -> None:
    """A route that reads no body (no :func:`body` model, not :func:`takes_form`) takes
    none: no body or ``{}``.  Anything else is a 400, so a client's misplaced input is
    never silently dropped."""
    if (
        handler is None
        or hasattr(handler, QUART_SCHEMA_REQUEST_ATTRIBUTE)
        or getattr(handler, _FORM_ATTRIBUTE, False)
    ):
        return
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    raw = await request.get_data(as_text=False)
    data = _json(raw if isinstance(raw, bytes) else raw.encode())
    if data != {}:
        raise BadInput("body: this route takes no body (send none, or {})", field="body",
                       kind="Payload")  # fmt: skip


def query(model: type[M]) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """The handler gets the query string as ``model`` (keyword ``query``): text converted
    to the model's types (``?limit=5``).  A parameter given twice is a 400."""

    def decorate(handler: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(handler)
        async def validated(*args: P.args, **kwargs: P.kwargs) -> R:
            given = _args()
            converted = convert(given, model, "Query", strict=False)
            for name in given:  # text converts to None ("null"): a given value is not null
                if getattr(converted, name, "") is None:
                    raise BadInput(f"{name}: must not be null", field=name, kind="Query")
            kwargs["query"] = converted
            return await handler(*args, **kwargs)

        return _document_query(validated, model)

    return decorate


def _document_query(handler: F, model: type[Any]) -> F:
    """Add ``model`` to the query models ``/doc`` lists for ``handler`` (a route's own
    and :func:`scoped`'s ``?directory=`` add up, in either decorator order)."""
    models = getattr(handler, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, ())
    setattr(handler, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, (*models, model))
    return handler


def headers(model: type[Any]) -> Callable[[F], F]:
    """Document headers a handler reads itself (``model``'s fields, ``_`` as ``-``).
    Several ``headers`` on one handler add up."""

    def decorate(handler: F) -> F:
        models = getattr(handler, QUART_SCHEMA_HEADERS_ATTRIBUTE, ())
        setattr(handler, QUART_SCHEMA_HEADERS_ATTRIBUTE, (*models, model))
        return handler

    return decorate


def scoped(handler: F) -> F:
    """Document the directory in scope that the handler reads with :func:`directory`:
    ``?directory=`` (the ``Scoped`` query model, beside any :func:`query` model of the
    route, which ignores ``directory``) and the ``x-opencode-directory`` header."""
    return headers(DirectoryHeader)(_document_query(handler, Scoped))


def directory(default: str) -> str:
    """The directory in scope: ``?directory=``, else the ``x-opencode-directory`` header
    (URL-encoded; empty means absent), else ``default``.  Normalised.  Raises BadInput if
    either given is not absolute or holds NUL."""
    headers = request.headers.getlist("x-opencode-directory")
    if len(headers) > 1:
        raise BadInput(
            "x-opencode-directory: given more than once",
            field="x-opencode-directory",
            kind="Headers",
        )
    header = headers[0] if headers else None
    if header:  # checked even when the query names the directory: bad input is never ignored
        default = _absolute(unquote(header), "x-opencode-directory", "Headers")
    values = request.args.getlist("directory")
    if len(values) > 1:
        raise BadInput("directory: given more than once", field="directory", kind="Query")
    return _absolute(values[0], "directory", "Query") if values else default


def _absolute(path: str, field: str, kind: InputKind) -> str:
    """``path`` normalised, if the services would take it as a directory
    (:func:`~agentactors.model.check_directory`); else a BadInput naming ``field``."""
    try:
        return check_directory(path, field)
    except InvalidRequest as exc:
        raise BadInput(exc.message, field=field, kind=kind) from None


def _args() -> dict[str, Any]:
    args = request.args
    return {key: args.getlist(key) if len(args.getlist(key)) > 1 else args[key] for key in args}


def _json(raw: bytes) -> Any:
    if not raw:
        return {}
    if not raw.strip():
        raise BadInput(
            "body is only whitespace: send a JSON object, or no body", field="body", kind="Payload"
        )
    too_deep = BadInput(
        f"body: nested more than {MAX_DEPTH} levels deep", field="body", kind="Payload"
    )
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise BadInput(f"body is not valid JSON: {exc}", field="body", kind="Payload") from None
    except RecursionError:  # deeper than the parser goes, so deeper than MAX_DEPTH
        raise too_deep from None
    if depth(data) > MAX_DEPTH:
        raise too_deep
    if not _is_text(data):
        raise BadInput(
            "body holds a lone surrogate (\\ud800-\\udfff unpaired), which is not text",
            field="body",
            kind="Payload",
        )
    return data


def _is_text(data: Any) -> bool:
    """Whether every string in ``data`` (keys included) is text UTF-8 can hold."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unknown_fields(data: Any, model: type[Any], path: str = "body") -> None:
    """Refuse a field a :func:`~._models.closed` model (or a closed model inside it)
    does not have.  ``data`` has already converted to ``model``.  Raises BadInput."""
    if not isinstance(data, dict) or not attrs.has(model):
        return
    names = [field.name for field in attrs.fields(model)]
    if model.__name__ in CLOSED:
        for key in data:
            if key not in names:
                where = key if path == "body" else f"{path.removeprefix('body.')}.{key}"
                raise BadInput(
                    f"{where}: unknown field (known: {', '.join(names)})",
                    field=where,
                    kind="Payload",
                )
    hints = typing.get_type_hints(model)
    for name, value in data.items():
        for inner in _models_in(hints.get(name)):
            unknown_fields(value, inner, f"{path}.{name}")


def _models_in(hint: Any) -> list[type[Any]]:
    """The attrs classes a field's type names directly (``Tool | None``: ``[Tool]``)."""
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    return [option for option in options if isinstance(option, type) and attrs.has(option)]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")

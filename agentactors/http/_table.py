"""The declarative route table: one :class:`Route` per operation.

The table is read twice: :func:`register` turns each route into a quart view that parses
and validates its input (path ids, query, headers, JSON body) before calling the
handler, and ``_openapi`` turns the same routes into the OpenAPI document.  Handlers are
thin: they receive a parsed :class:`Call`, call ``api.*`` and return JSON-ready values
(rendered as a 200) or a ready ``Response`` (the event streams).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal
from urllib.parse import unquote

import attrs
from quart import Quart, Response, request
from werkzeug.datastructures import Headers

from agentactors.actors import Config

from ._errors import BadInput, InputKind, render
from ._lifeline import Lifeline
from ._schema import Schema, SchemaError, check, string
from ._settings import Settings
from ._shapes import APPROVAL_ID, REQUEST_ID, SESSION_ID

Where = Literal["path", "query", "header"]
Handler = Callable[["Call"], Awaitable[Any]]

PATH_IDS: dict[str, Schema] = {
    "sessionID": SESSION_ID,
    "requestID": REQUEST_ID,
    "permissionID": REQUEST_ID,
    "approvalID": APPROVAL_ID,
}
"""Every path parameter is an id; its name says which kind."""

_KINDS: dict[Where, InputKind] = {"path": "Params", "query": "Query", "header": "Headers"}
_PATH_PARAM = re.compile(r"\{(\w+)\}")


@attrs.frozen
class Param:
    """A query or header parameter (path parameters come from the path template)."""

    name: str
    where: Where
    schema: Schema
    required: bool = False


DIRECTORY_PARAMS = (
    Param("directory", "query", string("the directory in scope (absolute)", pattern="^/")),
    Param(
        "x-opencode-directory",
        "header",
        string("the directory in scope (absolute, URL-encoded)", pattern="^(/|%2[Ff]|$)"),
    ),
)


@attrs.define(eq=False)
class Context:
    """What every handler may reach besides ``api``: settings, config, the lifeline."""

    settings: Settings
    config: Config
    lifeline: Lifeline = attrs.Factory(Lifeline)
    console: tuple[str, int] | None = None  # the debug console's address, when enabled
    document: dict[str, Any] | None = None  # the OpenAPI document, built at app creation


@attrs.frozen
class Call:
    """One parsed, validated request as a handler sees it."""

    context: Context
    path: Mapping[str, str]
    query: Mapping[str, Any]
    body: Mapping[str, Any]
    directory: str  # the directory in scope (scoped routes; else the server's)
    client: str | None  # the client's address


@attrs.frozen
class Route:
    """One operation: where it lives, what it takes, what it answers."""

    method: str
    path: str  # OpenAPI template: /permission/{requestID}/reply
    handler: Handler
    summary: str
    tag: str
    ok: Schema  # the 200 answer
    params: tuple[Param, ...] = ()
    body: Schema | None = None
    scoped: bool = False  # takes ?directory= / x-opencode-directory
    stream: bool = False  # text/event-stream
    auth: bool = True
    deprecated: bool = False
    errors: tuple[int, ...] = ()  # statuses beyond those its inputs imply (409, 404)
    description: str = ""

    @property
    def operation_id(self) -> str:
        return self.handler.__name__.strip("_")

    @property
    def path_params(self) -> tuple[Param, ...]:
        return tuple(Param(n, "path", PATH_IDS[n], True) for n in _PATH_PARAM.findall(self.path))

    @property
    def all_params(self) -> tuple[Param, ...]:
        return self.path_params + (DIRECTORY_PARAMS if self.scoped else ()) + self.params

    @property
    def rule(self) -> str:
        """The quart (werkzeug) rule: ``{name}`` becomes ``<name>``."""
        return _PATH_PARAM.sub(r"<\1>", self.path)

    def kind_of(self, field: str | None) -> InputKind:
        """Where an input field came from (to classify a service's InvalidRequest)."""
        for param in self.all_params:
            if param.name == field:
                return _KINDS[param.where]
        return "Payload"


def json_response(status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    """A JSON answer (UTF-8, compact)."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    extra = Headers(headers) if headers else None
    return Response(text, status=status, content_type="application/json", headers=extra)


def register(app: Quart, routes: tuple[Route, ...], context: Context) -> None:
    """Add a view for each route to ``app``."""
    for route in routes:
        app.add_url_rule(
            route.rule,
            endpoint=route.operation_id,
            view_func=_view(route, context),
            methods=[route.method],
        )


def _view(route: Route, context: Context) -> Callable[..., Awaitable[Response]]:
    async def view(**path: str) -> Response:
        try:
            call = await _parse(route, context, path)
            if route.stream and request.method == "HEAD":
                return Response("", content_type="text/event-stream")
            result = await route.handler(call)
        except Exception as exc:  # noqa: BLE001 - every error becomes an answer; bugs are logged
            status, body = render(exc, kind=route.kind_of(getattr(exc, "field", None)))
            return json_response(status, body, error_headers(exc))
        return result if isinstance(result, Response) else json_response(200, result)

    view.__name__ = route.operation_id
    return view


def error_headers(exc: Exception) -> list[tuple[str, str]] | None:
    get_headers = getattr(exc, "get_headers", None)  # werkzeug's: keep Allow on a 405
    if get_headers is None:
        return None
    return [(k, v) for k, v in get_headers() if k.lower() != "content-type"]


async def _parse(route: Route, context: Context, path: Mapping[str, str]) -> Call:
    """Validate the request against ``route``.  Raises :class:`BadInput` (a 400) or
    werkzeug's RequestEntityTooLarge (a 413).  Awaits the request body."""
    query: dict[str, Any] = {}
    for param in route.all_params:
        if param.where == "path":
            _checked(param, path[param.name])
            continue
        values = (
            request.args.getlist(param.name)
            if param.where == "query"
            else request.headers.getlist(param.name)
        )
        if len(values) > 1:
            raise BadInput(
                f"{param.name} must be given once", field=param.name, kind=_KINDS[param.where]
            )
        if values:
            query[param.name] = _checked(param, _coerce(param, values[0]))
        elif param.required:
            raise BadInput(f"{param.name} is required", field=param.name, kind=_KINDS[param.where])
    body: Any = {}
    if route.body is not None:
        body = _json(await request.get_data(False, False, False))  # cache, as_text, form
        try:
            check(route.body, body, "body")
        except SchemaError as exc:
            raise BadInput(str(exc), field=exc.field, kind="Payload") from None
    directory = _directory(query, context.settings.directory) if route.scoped else ""
    return Call(
        context, path, query, body, directory or context.settings.directory, request.remote_addr
    )


def _checked(param: Param, value: Any) -> Any:
    try:
        check(param.schema, value, param.name)
    except SchemaError as exc:
        raise BadInput(str(exc), field=param.name, kind=_KINDS[param.where]) from None
    return value


_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


def _coerce(param: Param, raw: str) -> Any:
    """A query string value as the type its schema names (left as text if it does not
    parse, so the schema check names the problem)."""
    kind = param.schema.get("type")
    if kind == "boolean":
        return _BOOLEANS.get(raw.lower(), raw)
    try:
        if kind == "integer":
            return int(raw) if re.fullmatch(r"-?[0-9]{1,18}", raw) else raw
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw
    return raw


def _json(data: bytes) -> Any:
    if not data.strip():
        return {}
    try:
        return json.loads(data, parse_constant=_no_constant)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise BadInput(f"body is not valid JSON: {exc}", field="body", kind="Payload") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _directory(query: Mapping[str, Any], default: str) -> str:
    """The directory in scope: ``?directory=``, else the header (URL-encoded), else the
    server's.  Both were checked to be absolute by their schemas."""
    if "directory" in query:
        return os.path.normpath(str(query["directory"]))
    header = query.get("x-opencode-directory")
    return os.path.normpath(unquote(header)) if header else default

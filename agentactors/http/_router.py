"""From a :class:`Request` to a route's answer: matching, input parsing, rendering.

:class:`Router` matches a method and path against the route table (static paths before
templated ones; ``HEAD`` is served by a ``GET`` route; a path with no route is a 404, a
known path with the wrong method a 405 naming the allowed ones).  :func:`answer` parses
and validates the request against its route (path ids, query, headers, JSON body), calls
the handler and renders what it returns or raises.  Nothing here blocks; the handler's
awaits are the only checkpoints.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import attrs

from ._errors import BadInput, MethodNotAllowed, NotFound, render
from ._messages import ClientGone, Request, Response, Stream, json_response
from ._schema import SchemaError, check
from ._table import INPUT_KINDS, Call, Context, Param, Route


@attrs.frozen
class Match:
    route: Route
    params: tuple[Param, ...]  # the route's every parameter, path ones first
    path: dict[str, str]  # the path parameters' raw values


@attrs.frozen
class _Entry:
    route: Route
    pattern: re.Pattern[str]
    params: tuple[Param, ...]


class Router:
    """The route table, indexed for matching.  Immutable after construction."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self._static: dict[str, dict[str, _Entry]] = {}
        self._templated: list[tuple[re.Pattern[str], dict[str, _Entry]]] = []
        by_template: dict[str, dict[str, _Entry]] = {}
        for route in routes:
            entry = _Entry(route, route.pattern, route.all_params)
            by_template.setdefault(route.path, {})[route.method] = entry
        for template, methods in by_template.items():
            if "{" in template:
                self._templated.append((next(iter(methods.values())).pattern, methods))
            else:
                self._static[template] = methods

    def match(self, method: str, path: str) -> Match:
        """The route for ``method path``.  Raises NotFound or MethodNotAllowed."""
        wanted = "GET" if method == "HEAD" else method
        allowed: set[str] = set()
        methods = self._static.get(path)
        if methods is not None:
            entry = methods.get(wanted)
            if entry is not None:
                return Match(entry.route, entry.params, {})
            allowed.update(methods)
        for pattern, methods in self._templated:
            found = pattern.match(path)
            if found is None:
                continue
            entry = methods.get(wanted)
            if entry is not None:
                return Match(entry.route, entry.params, found.groupdict())
            allowed.update(methods)
        if not allowed:
            raise NotFound(f"no route: {method} {path}")
        if "GET" in allowed:
            allowed.add("HEAD")
        raise MethodNotAllowed(f"method not allowed: {method} {path}", sorted(allowed))


async def answer(match: Match, context: Context, request: Request) -> Response:
    """Parse ``request`` for its route, call the handler, render the outcome.

    Every exception becomes an answer (a bug: a logged 500), except ClientGone (the
    server closes the connection) and cancellation.
    """
    route = match.route
    try:
        call = _parse(match, context, request)
        if route.stream and request.method == "HEAD":
            return Response(200, [(b"content-type", b"text/event-stream")])
        result = await route.handler(call)
    except ClientGone:
        raise
    except Exception as exc:  # noqa: BLE001 - every error becomes an answer; bugs are logged
        status, body = render(exc, kind=route.kind_of(getattr(exc, "field", None)))
        return json_response(status, body, error_headers(exc))
    return result if isinstance(result, Stream) else json_response(200, result)


def error_headers(exc: BaseException) -> list[tuple[bytes, bytes]] | None:
    """Headers an error's answer must carry (``Allow`` on a 405)."""
    if isinstance(exc, MethodNotAllowed):
        return [(b"allow", ", ".join(exc.allowed).encode())]
    return None


def _parse(match: Match, context: Context, request: Request) -> Call:
    """Validate the request against its route.  Raises :class:`BadInput` (a 400)."""
    route = match.route
    query: dict[str, Any] = {}
    for param in match.params:
        if param.where == "path":
            _checked(param, match.path[param.name])
            continue
        values = (
            request.args.get(param.name, ())
            if param.where == "query"
            else request.header(param.name.lower().encode())
        )
        if len(values) > 1:
            raise BadInput(
                f"{param.name} must be given once", field=param.name, kind=INPUT_KINDS[param.where]
            )
        if values:
            query[param.name] = _checked(param, _coerce(param, values[0]))
        elif param.required:
            raise BadInput(
                f"{param.name} is required", field=param.name, kind=INPUT_KINDS[param.where]
            )
    body: Any = {}
    if route.body is not None:
        body = _json(request.body)
        try:
            check(route.body, body, "body")
        except SchemaError as exc:
            raise BadInput(str(exc), field=exc.field, kind="Payload") from None
    default = context.settings.directory
    directory = _directory(query, default) if route.scoped else ""
    return Call(context, match.path, query, body, directory or default, request.client, request)


def _checked(param: Param, value: Any) -> Any:
    try:
        check(param.schema, value, param.name)
    except SchemaError as exc:
        raise BadInput(str(exc), field=param.name, kind=INPUT_KINDS[param.where]) from None
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

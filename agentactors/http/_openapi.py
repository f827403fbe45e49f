"""The OpenAPI 3.1 document, generated from the route table (never kept by hand).

Each :class:`Route` gives its path, method, parameters (path ids, query, headers), body
schema and 200 schema; the error statuses follow from what it takes: 400 for any input,
404 for ids, 413 for a body, 401 when a password is set, 403 (host or origin refused),
503 and 504 (a service restarting, shutting down, or too slow) everywhere.
Pure functions.
"""

from __future__ import annotations

from typing import Any

from agentactors.actors import wire

from ._schema import COMPONENTS
from ._shapes import ERROR
from ._table import Route

_REASONS = {
    400: "Bad path id, query, header or body (names the field)",
    401: "Missing or wrong credentials",
    403: "Host or origin refused",
    404: "No such id (or it belongs to another session)",
    409: "Already decided (the body holds the final state)",
    413: "Body too large",
    503: "A service is restarting, or the server is shutting down",
    504: "A service did not answer in time",
}


def document(routes: tuple[Route, ...], *, password: bool) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``routes``; security schemes only with a password."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, password)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "agentactors",
            "version": wire.VERSION,
            "description": "Permissions and events for AI agents, OpenCode-compatible.",
        },
        "paths": paths,
        "components": {"schemas": dict(COMPONENTS)},
    }
    if password:
        doc["components"]["securitySchemes"] = {
            "basic": {"type": "http", "scheme": "basic", "description": "user agentactors"},
            "bearer": {"type": "http", "scheme": "bearer"},
        }
        doc["security"] = [{"basic": []}, {"bearer": []}]
    return doc


def _operation(route: Route, password: bool) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.tag],
    }
    if route.description:
        op["description"] = route.description
    if route.deprecated:
        op["deprecated"] = True
    params = [
        {
            "name": p.name,
            "in": p.where,
            "required": p.required,
            "schema": p.schema,
        }
        for p in route.all_params
    ]
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {
            "required": bool(route.body.get("required")),
            "content": {"application/json": {"schema": route.body}},
        }
    if not route.auth:
        op["security"] = []
    op["responses"] = _responses(route, password)
    return op


def _responses(route: Route, password: bool) -> dict[str, Any]:
    media = "text/event-stream" if route.stream else "application/json"
    schema = (
        {"type": "string", "description": "SSE messages; each data line is JSON of x-data"}
        if route.stream
        else route.ok
    )
    ok: dict[str, Any] = {"description": "OK", "content": {media: {"schema": schema}}}
    if route.stream:
        ok["x-data"] = route.ok
    statuses = set(route.errors) | {403, 503, 504}
    if route.all_params or route.body is not None:
        statuses.add(400)
    if route.path_params:
        statuses.add(404)
    if route.body is not None:
        statuses.add(413)
    if password and route.auth:
        statuses.add(401)
    out: dict[str, Any] = {"200": ok}
    for status in sorted(statuses):
        out[str(status)] = {
            "description": _REASONS[status],
            "content": {"application/json": {"schema": ERROR}},
        }
    return out

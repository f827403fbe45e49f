"""``/doc``: the OpenAPI 3.1 document, made by quart-schema from the routes and their
attrs models (never kept by hand).

The decorators here record what a handler answers and the headers its answer may carry
(:func:`answers`), the error statuses it adds (:func:`errors`), that it needs no
password (:func:`public`) and that it streams (:func:`stream`).  :class:`Provider` is
quart-schema's OpenAPI provider with the schemas made by msgspec in one pass per model
(quart-schema 0.25 keeps only a model's own component, which leaves nested ``$ref``\\ s
dangling), the id patterns of path parameters, every query and header model a route
records (several add up), the answer's headers (quart-schema 0.25 puts them inside
``content``), and each operation's error answers: 400 for any input, 404 for ids, 413
for a body, 401 when a password is set, 403 (host or origin refused), 503 and 504
everywhere.  The document is built once, at the first request for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import msgspec
from werkzeug.routing import BaseConverter, Rule

from ._context import KEY
from ._models import CLOSED, PATH_IDS, Error
from ._quart_schema import (
    QUART_SCHEMA_RESPONSE_ATTRIBUTE,
    DataSource,
    OpenAPIProvider,
    security_scheme,
)

F = TypeVar("F", bound=Callable[..., Any])

_ERRORS_ATTRIBUTE = "_agentactors_errors"
_STREAM_ATTRIBUTE = "_agentactors_stream"
_REF = "#/components/schemas/{name}"
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


def answers(model: Any, *, headers: type[Any] | None = None) -> Callable[[F], F]:
    """Document the 200 answer's shape (``model``: an attrs class, ``list[...]``, a
    plain type) and the headers it may carry (``headers``: an attrs class whose fields
    are the names, ``_`` as ``-``).  The handler's answer is not converted: ``wire``
    renders it, and a test checks real answers against these models."""

    def decorate(handler: F) -> F:
        setattr(handler, QUART_SCHEMA_RESPONSE_ATTRIBUTE, {200: (model, headers)})
        return handler

    return decorate


def errors(*statuses: int) -> Callable[[F], F]:
    """Document error statuses beyond those the handler's inputs imply (409, 404)."""

    def decorate(handler: F) -> F:
        setattr(handler, _ERRORS_ATTRIBUTE, statuses)
        return handler

    return decorate


def stream(handler: F) -> F:
    """Document the answer as ``text/event-stream`` whose data lines are the model."""
    setattr(handler, _STREAM_ATTRIBUTE, True)
    return handler


public: Callable[[F], F] = security_scheme([])
"""No password needed (health)."""


def schema_of(model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(schema, components)`` of a model, by msgspec, with refs to components.  A
    model's ``json_schema_extra`` (a class variable) is merged into its own schema: what
    msgspec cannot say of an attrs class, such as an ``anyOf`` across fields.  A closed
    model's schema refuses other properties."""
    (schema,), components = msgspec.json.schema_components([model], ref_template=_REF)
    extra = getattr(model, "json_schema_extra", None)
    if extra:
        components[model.__name__].update(extra)
    for name, component in components.items():
        if name in CLOSED:
            component["additionalProperties"] = False
    return schema, components


class Provider(OpenAPIProvider):
    """quart-schema's provider, completed (see the module doc)."""

    _cached: dict[str, Any] | None = None

    @property
    def password(self) -> bool:
        """Whether the app asks for a password (its operations then answer 401)."""
        return bool(self._app.extensions[KEY].settings.password)

    def schema(self) -> dict[str, Any]:
        if self._cached is None:
            doc = super().schema()
            doc["paths"] = dict(doc["paths"])
            schemas = doc["components"]["schemas"]
            schemas.update(schema_of(Error)[1])
            self._cached = doc
        return self._cached

    def generate_rules(self) -> Iterable[Rule]:
        """quart-schema's rules less static files (the inbox page's script and style)."""
        for rule in super().generate_rules():
            if rule.endpoint.rpartition(".")[2] != "static":
                yield rule

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        paths, components = super().build_paths(rule)
        handler = self._app.view_functions[rule.endpoint]
        blueprint = rule.endpoint.partition(".")[0]
        for operations in paths.values():
            for operation in operations.values():
                operation["operationId"] = handler.__name__
                operation["tags"] = [blueprint]
                if not operation["parameters"]:
                    del operation["parameters"]
                if getattr(handler, _STREAM_ATTRIBUTE, False):
                    ok = operation["responses"][200]
                    data = ok["content"].pop("application/json")["schema"]
                    ok["content"]["text/event-stream"] = {
                        "schema": {"type": "string", "description": "SSE; data lines: x-data"}
                    }
                    ok["x-data"] = data
                self._add_errors(operation, handler)
        return paths, components

    def _add_errors(self, operation: dict[str, Any], handler: Callable[..., Any]) -> None:
        statuses = {403, 503, 504, *getattr(handler, _ERRORS_ATTRIBUTE, ())}
        if operation.get("parameters") or "requestBody" in operation:
            statuses.add(400)
        if any(p["in"] == "path" for p in operation.get("parameters", ())):
            statuses.add(404)
        if "requestBody" in operation:
            statuses.add(413)
        if self.password and operation.get("security") != []:
            statuses.add(401)
        error = {"application/json": {"schema": {"$ref": _REF.format(name="Error")}}}
        responses = operation["responses"]
        for status in sorted(statuses):
            responses[status] = {"description": _REASONS[status], "content": error}

    def build_path_parameter(self, name: str, converter: BaseConverter) -> dict[str, Any]:
        meta = PATH_IDS[name]
        schema = {"type": "string", "pattern": meta.pattern, "description": meta.description}
        return {"name": name, "in": "path", "required": True, "schema": schema}

    def build_querystring_parameters(  # type: ignore[override] # ours records a tuple (_inputs.query)
        self, models: tuple[type[Any], ...]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return self._all_parameters(models, "query", lambda name: name)

    def build_headers_parameters(  # type: ignore[override] # ours records a tuple (_inputs.headers)
        self, models: tuple[type[Any], ...]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return self._all_parameters(models, "header", _header_name)

    def _all_parameters(
        self, models: tuple[type[Any], ...], where: str, name_of: Callable[[str], str]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        parameters: list[dict[str, Any]] = []
        components: dict[str, Any] = {}
        for model in models:
            more, used = self._parameters(model, where, name_of)
            parameters += more
            components.update(used)
        return parameters, components

    def _parameters(
        self, model: type[Any], where: str, name_of: Callable[[str], str]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        _, components = schema_of(model)
        own = components.pop(model.__name__)
        required = set(own.get("required", ()))
        parameters = []
        for name, property_schema in own["properties"].items():
            schema = _not_null(property_schema)
            schema.pop("default", None)
            parameter: dict[str, Any] = {"name": name_of(name), "in": where, "schema": schema}
            parameter["required"] = name in required
            if "description" in schema:
                parameter["description"] = schema.pop("description")
            parameters.append(parameter)
        return parameters, components

    def build_request_body(
        self, model: type[Any], source: DataSource
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        schema, components = schema_of(model)
        required = bool(components.get(model.__name__, {}).get("required"))
        body = {"required": required, "content": {"application/json": {"schema": schema}}}
        return body, components

    def build_response_object(
        self, model: type[Any], headers_model: type[Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        schema, components = schema_of(model)
        response: dict[str, Any] = {
            "description": "OK",
            "content": {"application/json": {"schema": schema}},
        }
        if headers_model is not None:
            parameters, used = self._parameters(headers_model, "header", _header_name)
            response["headers"] = {
                p.pop("name"): {k: v for k, v in p.items() if k != "in"} for p in parameters
            }
            components.update(used)
        return response, components


def _header_name(field: str) -> str:
    return field.replace("_", "-")


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without the ``null`` an optional field's schema allows (a
    query or header is absent, never null)."""
    options = [s for s in schema.get("anyOf", ()) if s != {"type": "null"}]
    if len(options) == 1:
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        return {**rest, **options[0]}
    return dict(schema)

"""The declarative route table: one :class:`Route` per operation.

The table is read twice: ``_router`` matches requests to routes and parses and validates
their input (path ids, query, headers, JSON body) before calling the handler, and
``_openapi`` turns the same routes into the OpenAPI document.  Handlers are thin: they
receive a parsed :class:`Call`, call ``api.*`` and return JSON-ready values (rendered as
a 200) or a ready ``Stream`` (the event streams).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Literal, TypeVar

import attrs

from agentactors.actors import Config

from ._errors import InputKind
from ._messages import Request
from ._schema import Schema, string
from ._settings import Settings
from ._shapes import APPROVAL_ID, REQUEST_ID, SESSION_ID

Where = Literal["path", "query", "header"]
Handler = Callable[["Call"], Awaitable[Any]]
T = TypeVar("T")

PATH_IDS: dict[str, Schema] = {
    "sessionID": SESSION_ID,
    "requestID": REQUEST_ID,
    "permissionID": REQUEST_ID,
    "approvalID": APPROVAL_ID,
}
"""Every path parameter is an id; its name says which kind."""

INPUT_KINDS: dict[Where, InputKind] = {"path": "Params", "query": "Query", "header": "Headers"}
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
    """What every handler may reach besides ``api``: settings, config, the console."""

    settings: Settings
    config: Config
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
    request: Request | None = None

    def hold(self, wait: Coroutine[Any, Any, T]) -> Awaitable[T]:
        """``await call.hold(wait)``: await ``wait``, a long wait: a graceful shutdown
        ends it with ``ShuttingDown`` (a 503), a client that goes away with
        ``ClientGone`` (no answer).  Holds no thread; cancel-safe.  See
        ``Request.hold``."""
        if self.request is None:
            return wait
        return self.request.hold(wait)  # its awaitable: no frame of ours while parked


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
    def pattern(self) -> re.Pattern[str]:
        """A regex matching the route's paths; each ``{name}`` is a group of that name."""
        return re.compile("^" + _PATH_PARAM.sub(r"(?P<\1>[^/]+)", self.path) + "$")

    def kind_of(self, field: str | None) -> InputKind:
        """Where an input field came from (to classify a service's InvalidRequest)."""
        for param in self.all_params:
            if param.name == field:
                return INPUT_KINDS[param.where]
        return "Payload"

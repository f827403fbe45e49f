"""Errors as HTTP answers: the status of every error and its JSON body, and the Quart
error handlers that send them.

Every answer that is not a success is JSON ``{"_tag", "message", ...}``.  Bad input is a
400 that names the field and, OpenCode style, carries ``"name": "BadRequest"`` and
``"data": {"kind": "Params"|"Payload"|"Query"|"Headers"}``.  Only a bug is a 500:
it is logged with its traceback.  Nothing here blocks.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from quart import Quart, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from agentactors.model import (
    AgentActorsError,
    AlreadyDecided,
    ApprovalNotFound,
    CallTimeout,
    ConfigError,
    InvalidRequest,
    NotRunning,
    PermissionNotFound,
    RuntimeFault,
    SessionNotFound,
    wire,
)

from ._json import json_response

log = logging.getLogger("agentactors.http")

InputKind = Literal["Params", "Payload", "Query", "Headers"]


class HttpError(AgentActorsError):
    """An answer decided by the HTTP layer itself, with its status."""

    status = 500

    def __init__(self, message: str, *, tag: str, status: int, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.tag = tag
        self.status = status


class BadInput(HttpError):
    """A path parameter, query, header or body that does not parse or validate."""

    def __init__(self, message: str, *, field: str, kind: InputKind) -> None:
        super().__init__(
            message,
            tag="BadRequestError",
            status=400,
            field=field,
            name="BadRequest",
            data={"kind": kind, "message": message, "field": field},
        )
        self.field = field
        self.kind = kind


class ShuttingDown(HttpError):
    """The server is shutting down: a parked long-poll is answered with this (503)."""

    def __init__(self) -> None:
        super().__init__(
            "the server is shutting down; retry against its next start",
            tag="ShuttingDownError",
            status=503,
        )


class NotFound(HttpError):
    def __init__(self, message: str) -> None:
        super().__init__(message, tag="NotFoundError", status=404)


_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (InvalidRequest, 400),
    (ConfigError, 400),
    (SessionNotFound, 404),
    (PermissionNotFound, 404),
    (ApprovalNotFound, 404),
    (AlreadyDecided, 409),
    (NotRunning, 503),  # ServiceRestarting included: retry
    (CallTimeout, 504),
    (RuntimeFault, 503),  # ServiceCrashed: the actor is being restarted; retry
)

HTTP_TAGS = {
    400: "BadRequestError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    413: "PayloadTooLargeError",
    431: "RequestHeaderFieldsTooLargeError",
    501: "NotImplementedError",
}
"""The ``_tag`` of an answer with this status that the app or the server gives itself."""


def status_of(exc: BaseException) -> int:
    """The HTTP status for ``exc``; 500 for anything not known to be the client's."""
    if isinstance(exc, HttpError):
        return exc.status
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def render(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """``(status, body)`` for ``exc``.  An unexpected exception is logged as a bug.

    An :class:`InvalidRequest` raised by a service names a field the services check
    beyond what the schemas say (patterns derivable from metadata, a list's cursor): a
    query parameter of this request if one has that name, else a body field.
    """
    status = status_of(exc)
    if isinstance(exc, InvalidRequest):
        field = exc.field or "body"
        kind: InputKind = "Query" if field in request.args else "Payload"
        return status, BadInput(exc.message, field=field, kind=kind).to_dict()
    if isinstance(exc, AgentActorsError) and status != 500:
        body = exc.to_dict()
        if isinstance(exc, AlreadyDecided):
            body["request"] = wire.request_state(exc.request)
        return status, body
    log.error("unexpected error answering a request", exc_info=exc)
    return 500, {"_tag": "InternalError", "message": f"internal error: {type(exc).__name__}"}


def error_response(status: int, tag: str, message: str, **fields: Any) -> Response:
    """A JSON error answer."""
    return json_response({"_tag": tag, "message": message, **fields}, status)


def install(app: Quart) -> None:
    """Answer every error raised while handling a request as JSON."""

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if status == 404:
            message = f"no route: {_request_line()}"
        elif status == 405:
            message = f"method not allowed: {_request_line()}"
        else:
            message = exc.description or exc.name
        response = error_response(status, HTTP_TAGS.get(status, f"Http{status}Error"), message)
        if status == 413:  # the rest of the body is not worth reading
            response.headers["Connection"] = "close"
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            allowed = sorted(set(exc.valid_methods) - {"OPTIONS"})
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(Exception)
    async def any_error(exc: Exception) -> Response:
        status, body = render(exc)
        return json_response(body, status)


def _request_line() -> str:
    return f"{request.method} {request.path}"

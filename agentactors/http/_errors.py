"""Errors as HTTP answers: the status of every error and its JSON body.

Every answer that is not a success is JSON ``{"_tag", "message", ...}`` (contract §3).
Bad input is a 400 that names the field and, OpenCode style, carries
``"name": "BadRequest"`` and ``"data": {"kind": "Params"|"Payload"|"Query"|"Headers"}``.
Only a bug is a 500: :func:`render` logs it with its traceback.  Pure functions apart
from that log line; nothing blocks.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from agentactors.actors import (
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


class MethodNotAllowed(HttpError):
    """A known path asked with a method it does not take; ``allowed`` lists those it does."""

    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(message, tag="MethodNotAllowedError", status=405)
        self.allowed = allowed


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


def status_of(exc: BaseException) -> int:
    """The HTTP status for ``exc``; 500 for anything not known to be the client's."""
    if isinstance(exc, HttpError):
        return exc.status
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def render(exc: BaseException, *, kind: InputKind = "Payload") -> tuple[int, dict[str, Any]]:
    """``(status, body)`` for ``exc``.  An unexpected exception is logged as a bug.

    ``kind`` classifies an :class:`InvalidRequest` raised by a service (the route knows
    whether its field came from the path, the query or the body).
    """
    status = status_of(exc)
    if isinstance(exc, InvalidRequest):
        field = exc.field or "body"
        return status, BadInput(exc.message, field=field, kind=kind).to_dict()
    if isinstance(exc, AgentActorsError) and status != 500:
        body = exc.to_dict()
        if isinstance(exc, AlreadyDecided):
            body["request"] = wire.request_state(exc.request)
        return status, body
    log.error("unexpected error answering a request", exc_info=exc)
    return 500, {"_tag": "InternalError", "message": f"internal error: {type(exc).__name__}"}

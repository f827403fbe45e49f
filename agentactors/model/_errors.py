"""The exceptions of the runtime and of the services.

Two families:

* :class:`RuntimeFault` — something about the actor machinery: a name that is taken, a
  service that is not running or is restarting, a call that timed out, a handler that
  crashed.  Callers may retry these (the HTTP layer answers 409/503/504).
* :class:`ServiceError` — a domain answer from a healthy service: unknown id, already
  decided, bad input.  A handler that raises one of these has *not* crashed; the error
  goes back to the caller and the actor carries on.

Every exception carries the fields a client needs as attributes, and ``to_dict()`` gives
the JSON shape the HTTP layer renders (``{"_tag": ..., "message": ...}`` plus fields).
"""

from __future__ import annotations

from typing import Any


class AgentActorsError(Exception):
    """Base of every error this package raises on purpose."""

    tag = "AgentActorsError"

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready shape: ``{"_tag", "message", **fields}``."""
        return {"_tag": self.tag, "message": self.message, **self.fields}


# --- runtime faults -------------------------------------------------------------------


class RuntimeFault(AgentActorsError):
    """The actor machinery could not deliver or complete a call."""

    tag = "RuntimeFaultError"


class AlreadyStarted(RuntimeFault):
    """A live actor already holds the name; nothing was started.

    ``ref`` is the live actor's ref, as OTP's ``{error, {already_started, Pid}}``.
    """

    tag = "AlreadyStartedError"

    def __init__(self, name: str, ref: Any) -> None:
        super().__init__(f"an actor named {name!r} is already running", name=name)
        self.name = name
        self.ref = ref


class NotRunning(RuntimeFault):
    """No live actor holds the name (never started, stopped, or gave up restarting)."""

    tag = "NotRunningError"

    def __init__(self, name: str, reason: str | None = None) -> None:
        message = f"no actor named {name!r} is running"
        if reason:
            message += f": {reason}"
        super().__init__(message, name=name, reason=reason)
        self.name = name
        self.reason = reason


class ServiceRestarting(NotRunning):
    """The named service crashed and its supervisor is bringing it back; retry."""

    tag = "ServiceRestartingError"

    def __init__(self, name: str, reason: str | None = None) -> None:
        super().__init__(name, reason or "restarting after a crash")


class CallTimeout(RuntimeFault, TimeoutError):
    """A call to an actor got no answer within its timeout."""

    tag = "TimeoutError"

    def __init__(self, name: str, what: str, timeout: float) -> None:
        super().__init__(
            f"{name!r} did not answer {what} within {timeout:g} s",
            name=name,
            timeout=timeout,
        )
        self.name = name
        self.timeout = timeout


class ServiceCrashed(RuntimeFault):
    """The handler of this call raised unexpectedly; the actor is being restarted."""

    tag = "ServiceCrashedError"

    def __init__(self, name: str, cause: BaseException) -> None:
        super().__init__(
            f"{name!r} crashed handling the call: {type(cause).__name__}: {cause}",
            name=name,
        )
        self.name = name
        self.cause = cause


class BlockingCallError(RuntimeFault):
    """A service actor tried to block on another actor's reply (a deadlock risk)."""

    tag = "BlockingCallError"


# --- domain answers -------------------------------------------------------------------


class ServiceError(AgentActorsError):
    """A healthy service's refusal; never a crash."""

    tag = "ServiceError"


class InvalidRequest(ServiceError):
    """The message named something impossible (bad field, bad value)."""

    tag = "BadRequestError"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.field = field


class SessionNotFound(ServiceError):
    """No session has this id."""

    tag = "SessionNotFoundError"

    def __init__(self, session_id: str) -> None:
        super().__init__(f"Session not found: {session_id}", sessionID=session_id)
        self.session_id = session_id


class PermissionNotFound(ServiceError):
    """No permission request has this id (or it belongs to another session)."""

    tag = "PermissionNotFoundError"

    def __init__(self, request_id: str) -> None:
        super().__init__(f"Permission request not found: {request_id}", requestID=request_id)
        self.request_id = request_id


class AlreadyDecided(ServiceError):
    """The request was decided before this reply; ``request`` is its final state."""

    tag = "PermissionAlreadyDecidedError"

    def __init__(self, request: Any) -> None:
        super().__init__(
            f"Permission request already decided: {request.id} ({request.state})",
            requestID=request.id,
        )
        self.request = request


class ApprovalNotFound(ServiceError):
    """No saved approval has this id."""

    tag = "ApprovalNotFoundError"

    def __init__(self, approval_id: str) -> None:
        super().__init__(f"Saved approval not found: {approval_id}", approvalID=approval_id)
        self.approval_id = approval_id


class ConfigError(ServiceError):
    """A configuration file or ruleset is invalid; names the file, line and key.

    At start-up it stops the server; from a project file read for an ask, it is that
    ask's answer (the file is input like any other)."""

    tag = "ConfigError"

"""The store's errors: a data dir or database that cannot be used (the start is refused),
and a change that could not be stored (retry)."""

from __future__ import annotations

from agentactors.model import AgentActorsError, RuntimeFault


class StoreError(AgentActorsError):
    """The data dir or database cannot be used (start refused); names the path."""

    tag = "StoreError"

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message, path=path)
        self.path = path


class StoreUnavailable(RuntimeFault):
    """A change could not be stored, so it was not made (and not acknowledged); retry.

    The HTTP layer answers 503 (a ``RuntimeFault``).
    """

    tag = "StoreUnavailableError"

    def __init__(self, reason: str) -> None:
        super().__init__(f"the change could not be stored, so it was not made: {reason}")
        self.reason = reason

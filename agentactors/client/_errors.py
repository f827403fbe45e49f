"""The errors only a client over HTTP meets: the server's answers with no domain error."""

from __future__ import annotations

from agentactors.model import AgentActorsError


class Unauthorized(AgentActorsError):
    """The server wants credentials (or refused the ones given)."""

    tag = "UnauthorizedError"


class RemoteError(AgentActorsError):
    """A server answer the client has no typed error for (status and body kept)."""

    tag = "RemoteError"

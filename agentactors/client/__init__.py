"""One client interface over two transports: in-process (the registry) and HTTP; and the
event-stream parser the HTTP transport reads ``GET /event`` with."""

from ._client import AsyncClient, Client
from ._errors import RemoteError, Unauthorized
from ._sse import SseEvent, SseParser

__all__ = ["AsyncClient", "Client", "RemoteError", "SseEvent", "SseParser", "Unauthorized"]

"""One client interface over two transports: in-process (the registry) and HTTP."""

from ._client import AsyncClient, Client
from ._errors import RemoteError, Unauthorized

__all__ = ["AsyncClient", "Client", "RemoteError", "Unauthorized"]

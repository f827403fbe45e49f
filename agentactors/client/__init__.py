"""One client interface over two transports: in-process (the registry) and HTTP."""

from ._client import AsyncClient, Client

__all__ = ["AsyncClient", "Client"]

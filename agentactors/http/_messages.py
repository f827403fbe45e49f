"""What the HTTP server hands the app and takes back: :class:`Request`, :class:`Response`
and :class:`Stream`.

Plain slotted classes, cheap to make (one of each per request, thousands of requests a
second, and one :class:`Request` per parked long-poll).  Header names are lowercase
bytes, lowered by the server.  Nothing here does I/O except :meth:`Request.hold`, which the
server provides.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import parse_qs

T = TypeVar("T")
Headers = list[tuple[bytes, bytes]]
Hold = Callable[[Coroutine[Any, Any, T]], Awaitable[T]]


class ClientGone(Exception):
    """The client closed its connection while its request was held (:meth:`Request.hold`).
    The server answers nothing and closes the connection."""


async def _unwatched(wait: Coroutine[Any, Any, T]) -> T:
    return await wait


class Request:
    """One parsed HTTP request with its whole body (the server read it before the app
    sees it, so an answer never starts before the body has arrived)."""

    __slots__ = (
        "_args",
        "body",
        "chunked_ok",
        "client",
        "headers",
        "hold",
        "keep_alive",
        "method",
        "path",
        "query",
    )

    def __init__(
        self,
        method: str,
        path: str,
        query: str,
        headers: Headers,
        *,
        body: bytes = b"",
        client: str | None = None,
        hold: Hold[object] | None = None,
    ) -> None:
        self.method = method
        self.path = path  # percent-decoded
        self.query = query  # raw, as sent after '?'
        self.headers = headers
        self.body = body
        self.client = client
        self.hold: Hold[Any] = hold or _unwatched
        """``hold(wait)``: await the coroutine ``wait``, a long wait (a parked ask, a
        long-poll), while the server watches the connection.  Holds no thread;
        cancel-safe.  Raises ClientGone if the client hung up first, ShuttingDown if the
        server is shutting down (``wait`` was cancelled, or closed unstarted, either
        way).  A request made outside a server just awaits ``wait``.  (The server's own
        function, not a method: a parked request keeps no frame of its own here.)"""
        self._args: dict[str, list[str]] | None = None
        self.keep_alive = True  # the connection may serve another request after this one
        self.chunked_ok = True  # HTTP/1.1: a stream may be sent chunked

    @property
    def args(self) -> dict[str, list[str]]:
        """The query string, parsed (``+`` and ``%xx`` decoded; blank values kept)."""
        if self._args is None:
            self._args = parse_qs(self.query, keep_blank_values=True) if self.query else {}
        return self._args

    def header(self, name: bytes) -> list[str]:
        """Every value of the header ``name`` (lowercase), decoded as latin-1."""
        return [value.decode("latin-1") for key, value in self.headers if key == name]


class Response:
    """A whole answer: status, headers (without content-length: the server adds it) and
    body bytes."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Headers, body: bytes = b"") -> None:
        self.status = status
        self.headers = headers
        self.body = body


JSON = [(b"content-type", b"application/json")]


def json_response(
    status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> Response:
    """A JSON answer (UTF-8, compact)."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(status, [*JSON, *headers] if headers else list(JSON), text)


def error_response(
    status: int, tag: str, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> Response:
    """The JSON error every non-2xx answer is: ``{"_tag", "message"}``."""
    return json_response(status, {"_tag": tag, "message": message}, headers)


class Stream(Response):
    """A streamed answer (server-sent events): ``chunks`` is sent piece by piece, chunked,
    while the server watches for the client going away; it is closed (``aclose``) when the
    client goes, the server stops, or it ends."""

    __slots__ = ("chunks",)

    def __init__(self, status: int, headers: Headers, chunks: AsyncIterator[bytes]) -> None:
        super().__init__(status, headers)
        self.chunks = chunks

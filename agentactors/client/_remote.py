"""The HTTP transport (httpx): operations become requests to a running server.

Errors come back as the same typed exceptions the in-process transport raises, rebuilt
from the server's ``{"_tag", "message", ...}`` bodies.  Waits (``ask(wait=True)``,
``wait``) are long-polls with no client-side read timeout; every other request times out
after ``timeout`` seconds (:class:`CallTimeout`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any, TypeVar, cast
from urllib.parse import quote

import attrs
import httpx

from agentactors.actors.store import StoreUnavailable
from agentactors.model import (
    AlreadyDecided,
    ApprovalNotFound,
    CallTimeout,
    Event,
    Inbox,
    InvalidRequest,
    NotRunning,
    Page,
    PermissionNotFound,
    ServiceRestarting,
    SessionNotFound,
    wire,
)

from . import _ops as ops
from ._errors import RemoteError, Unauthorized
from ._sse import SseParser

USER = "agentactors"


T = TypeVar("T")


@attrs.frozen
class Exchange:
    """One HTTP request and how to read its answer."""

    method: str
    path: str
    parse: Any  # callable: JSON -> value
    params: dict[str, Any] = attrs.Factory(dict)
    body: Any = None
    headers: dict[str, str] = attrs.Factory(dict)
    long_poll: bool = False
    then: Any = None  # an op to run after (reply -> get)
    paged: bool = False  # a list: a Page, its next_cursor from the x-next-cursor header


def _quiet(value: Any) -> None:
    return None


def to_exchange(op: ops.Op[Any]) -> Exchange:  # noqa: PLR0911, PLR0912 - one case per operation
    """The request that carries ``op``."""
    match op:
        case ops.CreateSession():
            body: dict[str, Any] = {"permission": list(op.permission)}
            if op.title is not None:
                body["title"] = op.title
            if op.parent_id is not None:
                body["parentID"] = op.parent_id
            headers = {"x-opencode-directory": quote(op.directory, safe="")}
            return Exchange("POST", "/session", wire.parse_session, body=body, headers=headers)
        case ops.GetSession():
            return Exchange("GET", f"/session/{op.session_id}", wire.parse_session)
        case ops.ListSessions():
            params = _page_params(op.limit, op.cursor, directory=op.directory)
            return Exchange("GET", "/session", _each(wire.parse_session), params=params, paged=True)
        case ops.AbortSession():
            return Exchange("POST", f"/session/{op.session_id}/abort", _quiet)
        case ops.Ask():
            body = {"permission": op.permission, "metadata": dict(op.metadata)}
            if op.patterns:
                body["patterns"] = list(op.patterns)
            if op.always:
                body["always"] = list(op.always)
            if op.timeout is not None:
                body["timeout"] = op.timeout
            return Exchange(
                "POST", f"/session/{op.session_id}/permission", wire.parse_request,
                params={"wait": "true"} if op.wait else {}, body=body, long_poll=op.wait,
            )  # fmt: skip
        case ops.GetPermission():
            return Exchange("GET", f"/permission/{op.request_id}", wire.parse_request)
        case ops.WaitPermission():
            params = {} if op.timeout is None else {"timeout": str(op.timeout)}
            return Exchange(
                "GET", f"/permission/{op.request_id}/wait", wire.parse_request,
                params=params, long_poll=True,
            )  # fmt: skip
        case ops.ListPending():
            params = _page_params(op.limit, op.cursor, directory=op.directory)
            parse = _each(wire.parse_request)
            if op.session_id is not None:  # the route has no such filter: pages may be short
                session_id = op.session_id
                parse = _filtered(parse, lambda r: r.session_id == session_id)
            return Exchange("GET", "/permission", parse, params=params, paged=True)
        case ops.ListInbox():
            params = {"limit": str(op.limit)}
            return Exchange("GET", "/inbox/pending", _parse_inbox, params=params)
        case ops.Reply():
            body = {"reply": op.reply, "scope": op.scope}
            if op.message is not None:
                body["message"] = op.message
            path = (
                f"/permission/{op.request_id}/reply"
                if op.session_id is None
                else f"/session/{op.session_id}/permissions/{op.request_id}"
            )
            if op.session_id is not None:  # OpenCode's deprecated route: its own shape
                body["response"] = body.pop("reply")
                del body["scope"]
            return Exchange("POST", path, _quiet, body=body, then=ops.GetPermission(op.request_id))
        case ops.Withdraw():
            return Exchange("POST", f"/permission/{op.request_id}/withdraw", wire.parse_request)
        case ops.ListSaved():
            params = _page_params(op.limit, op.cursor, scope=op.scope)
            parse = _each(wire.parse_approval)
            return Exchange("GET", "/permission/saved", parse, params=params, paged=True)
        case ops.RevokeSaved():
            return Exchange("DELETE", f"/permission/saved/{op.approval_id}", wire.parse_approval)
        case ops.History():
            params = _page_params(
                op.limit, op.cursor, sessionID=op.session_id, state=op.state,
                decider=op.decider, since=op.since, until=op.until, before=op.before,
            )  # fmt: skip
            parse = _each(wire.parse_request)
            return Exchange("GET", "/permission/history", parse, params=params, paged=True)
    raise TypeError(f"unknown operation {op!r}")


def _page_params(limit: int, cursor: str | None, **filters: Any) -> dict[str, str]:
    """A list route's query: the filters given (not None, not empty), limit and cursor."""
    params = {key: str(value) for key, value in filters.items() if value not in (None, "")}
    params["limit"] = str(limit)
    if cursor is not None:
        params["cursor"] = cursor
    return params


def _each(parse: Any) -> Any:
    return lambda values: [parse(v) for v in values]


def _parse_inbox(value: dict[str, Any]) -> Inbox:
    """The inbox's JSON (each request with its display text) as an :class:`Inbox`."""
    requests = tuple(wire.parse_request(view["request"]) for view in value["requests"])
    return Inbox(value["total"], requests)


def _filtered(parse: Any, keep: Any) -> Any:
    return lambda values: [v for v in parse(values) if keep(v)]


def error_from(response: httpx.Response) -> Exception:  # noqa: PLR0911 - one per error
    """The typed exception for a non-2xx answer."""
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text}
    if not isinstance(body, dict):
        body = {"message": str(body)}
    tag, message = body.get("_tag", ""), body.get("message", response.reason_phrase)
    status = response.status_code
    if status == 401:
        return Unauthorized(message)
    if tag == "PermissionNotFoundError":
        return PermissionNotFound(body.get("requestID", ""))
    if tag == "SessionNotFoundError":
        return SessionNotFound(body.get("sessionID", ""))
    if tag == "ApprovalNotFoundError":
        return ApprovalNotFound(body.get("approvalID", ""))
    if tag == "PermissionAlreadyDecidedError" and "request" in body:
        return AlreadyDecided(wire.parse_request(body["request"]))
    if status == 400:
        return InvalidRequest(message, field=body.get("field"))
    if tag == "StoreUnavailableError":
        return StoreUnavailable(message)
    if tag == "ServiceRestartingError":
        return ServiceRestarting(body.get("name", "server"))
    if status == 503:
        return NotRunning(body.get("name", "server"), message)
    if status == 504:
        return CallTimeout(body.get("name", "server"), "the call", body.get("timeout", 0.0))
    return RemoteError(f"{status}: {message}", status=status, body=body)


def _auth(password: str | None) -> httpx.Auth | None:
    return httpx.BasicAuth(USER, password) if password else None


def _timeout(exchange: Exchange, timeout: float) -> httpx.Timeout:
    return httpx.Timeout(timeout, read=None) if exchange.long_poll else httpx.Timeout(timeout)


def _answer(exchange: Exchange, response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise error_from(response)
    if exchange.paged:
        return Page(exchange.parse(response.json()), response.headers.get("x-next-cursor"))
    return exchange.parse(response.json())


def _events(parser: SseParser, chunk: bytes, wanted: set[str] | None) -> Iterator[Event]:
    """The events ``chunk`` completes, but the stream's own (``server.*``) and those not
    ``wanted`` (None: all)."""
    for message in parser.feed(chunk):
        event = wire.parse_event(json.loads(message.data))
        if not event.type.startswith("server.") and (wanted is None or event.type in wanted):
            yield event


async def _aevents(chunks: AsyncIterator[bytes], wanted: set[str] | None) -> AsyncGenerator[Event]:
    parser = SseParser()
    async for chunk in chunks:
        for event in _events(parser, chunk, wanted):
            yield event


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    """Run a closed response's bytes to their end (the closed connection raises), so that
    httpx's and httpcore's generators under them finish here, not in the garbage
    collector (where trio warns of each, unfinished)."""
    with suppress(httpx.StreamError, httpx.TransportError):
        async for _ in chunks:
            pass


def _event_path(directory: str | None) -> tuple[str, dict[str, str]]:
    return ("/event", {"directory": directory}) if directory else ("/global/event", {})


class RemoteTransport:
    """Blocking HTTP transport (httpx.Client)."""

    def __init__(self, url: str, *, password: str | None, timeout: float) -> None:
        self._timeout = timeout
        self._http = httpx.Client(base_url=url, auth=_auth(password), timeout=timeout)

    def handle(self, op: ops.Op[T]) -> T:
        exchange = to_exchange(op)
        try:
            response = self._http.request(
                exchange.method, exchange.path, params=exchange.params, json=exchange.body,
                headers=exchange.headers, timeout=_timeout(exchange, self._timeout),
            )  # fmt: skip
        except httpx.TimeoutException:
            raise CallTimeout("server", exchange.path, self._timeout) from None
        result = _answer(exchange, response)
        answer = self.handle(exchange.then) if exchange.then is not None else result
        return cast("T", answer)  # the operation's type names its answer's

    @contextmanager
    def events(self, types: Iterable[str] | None, directory: str | None) -> Iterator[Any]:
        wanted = set(types) if types else None
        path, params = _event_path(directory)
        with self._http.stream("GET", path, params=params, timeout=None) as response:
            if response.status_code >= 400:
                response.read()
                raise error_from(response)
            parser = SseParser()
            yield (e for chunk in response.iter_bytes() for e in _events(parser, chunk, wanted))

    def close(self) -> None:
        self._http.close()


class AsyncRemoteTransport:
    """Trio HTTP transport (httpx.AsyncClient)."""

    def __init__(self, url: str, *, password: str | None, timeout: float) -> None:
        self._timeout = timeout
        self._http = httpx.AsyncClient(
            base_url=url, auth=_auth(password), timeout=timeout,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=100),
        )  # fmt: skip

    async def handle(self, op: ops.Op[T]) -> T:
        exchange = to_exchange(op)
        try:
            response = await self._http.request(
                exchange.method, exchange.path, params=exchange.params, json=exchange.body,
                headers=exchange.headers, timeout=_timeout(exchange, self._timeout),
            )  # fmt: skip
        except httpx.TimeoutException:
            raise CallTimeout("server", exchange.path, self._timeout) from None
        result = _answer(exchange, response)
        answer = await self.handle(exchange.then) if exchange.then is not None else result
        return cast("T", answer)  # the operation's type names its answer's

    @asynccontextmanager
    async def events(
        self, types: Iterable[str] | None, directory: str | None
    ) -> AsyncIterator[AsyncIterator[Event]]:
        wanted = set(types) if types else None
        path, params = _event_path(directory)
        async with self._http.stream("GET", path, params=params, timeout=None) as response:
            if response.status_code >= 400:
                await response.aread()
                raise error_from(response)

            chunks = response.aiter_bytes()
            stream = _aevents(chunks, wanted)
            try:
                yield stream
            finally:
                await stream.aclose()
                await response.aclose()
                await _drain(chunks)

    async def aclose(self) -> None:
        await self._http.aclose()

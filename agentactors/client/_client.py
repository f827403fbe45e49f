"""``Client`` (blocking) and ``AsyncClient`` (trio): one list of methods, two transports.

``Client.in_process()`` talks to the services of this process by name;
``Client.connect(url, password=...)`` talks to a server over HTTP.  Both raise the same
typed errors (:class:`~agentactors.model.PermissionNotFound`,
:class:`~agentactors.model.AlreadyDecided`, ``CallTimeout``, ...; over HTTP also
:class:`~agentactors.client.Unauthorized`) and return the same values
(:class:`~agentactors.model.Session`, :class:`~agentactors.model.PermissionRequest`, ...).

The list methods answer one :class:`~agentactors.model.Page` (a list, at most ``limit``
rows) whose ``next_cursor`` is passed as ``cursor`` for the next page; ``walk`` follows
the cursors: ``for session in client.walk(client.list_sessions, directory)``.
"""

from __future__ import annotations

from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import Any, TypeVar

from agentactors.model import (
    BY_USER,
    DEFAULT_LIMIT,
    Decider,
    Inbox,
    Page,
    PermissionRequest,
    SavedApproval,
    Session,
)

from . import _ops as ops
from ._transports import AsyncLocalTransport, AsyncTransport, LocalTransport, Transport

T = TypeVar("T")


class Client:
    """Blocking client: for scripts, plugin hooks and other plain threads.

    Every method blocks the calling thread until the answer (service calls time out
    after 5 s; waits for a decision only after ``timeout``).  Never call it from a core
    service's handler (``BlockingCallError``); plugins may.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @classmethod
    def in_process(cls, *, decided_by: Decider = BY_USER) -> Client:
        """A client of this process's services; replies are recorded as ``decided_by``."""
        return cls(LocalTransport(decided_by))

    @classmethod
    def connect(cls, url: str, *, password: str | None = None, timeout: float = 30.0) -> Client:
        """A client of the server at ``url`` (HTTP, httpx)."""
        from ._remote import RemoteTransport  # noqa: PLC0415 - httpx only when used

        return cls(RemoteTransport(url, password=password, timeout=timeout))

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    # sessions
    def create_session(
        self,
        directory: str,
        *,
        title: str | None = None,
        parent_id: str | None = None,
        permission: Sequence[Mapping[str, str]] = (),
    ) -> Session:
        op = ops.CreateSession(directory, title, parent_id, tuple(permission))
        return self._transport.handle(op)

    def get_session(self, session_id: str) -> Session:
        return self._transport.handle(ops.GetSession(session_id))

    def list_sessions(
        self, directory: str | None = None, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Session]:
        """A page of sessions, most recently updated first (in-process without a
        directory: every session; over HTTP: the server's directory)."""
        op = ops.ListSessions(directory, limit, cursor)
        return self._transport.handle(op)

    def abort_session(self, session_id: str) -> None:
        """End the pending requests of the session and its children (aborted)."""
        self._transport.handle(ops.AbortSession(session_id))

    # permissions
    def ask(
        self,
        session_id: str,
        permission: str,
        patterns: Sequence[str] = (),
        *,
        metadata: Mapping[str, Any] | None = None,
        always: Sequence[str] = (),
        timeout: float | None = None,
        wait: bool = False,
    ) -> PermissionRequest:
        """Ask; with ``wait=True`` block until decided and return the final state."""
        op = ops.Ask(
            session_id, permission, tuple(patterns), dict(metadata or {}), tuple(always),
            timeout, wait,
        )  # fmt: skip
        return self._transport.handle(op)

    def get(self, request_id: str) -> PermissionRequest:
        return self._transport.handle(ops.GetPermission(request_id))

    def wait(self, request_id: str, *, timeout: float | None = None) -> PermissionRequest:
        """Block until the request ends (re-attaching by id across restarts)."""
        return self._transport.handle(ops.WaitPermission(request_id, timeout))

    def pending(
        self,
        *,
        directory: str | None = None,
        session_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[PermissionRequest]:
        """A page of pending requests, in the order they were asked."""
        op = ops.ListPending(directory, session_id, limit, cursor)
        return self._transport.handle(op)

    def inbox(self, *, limit: int = DEFAULT_LIMIT) -> Inbox:
        """Every directory's pending requests: the newest ``limit`` (newest first) and
        how many there are."""
        return self._transport.handle(ops.ListInbox(limit))

    def reply(
        self,
        request_id: str,
        reply: str,
        *,
        message: str | None = None,
        session_id: str | None = None,
        scope: str = "session",
    ) -> PermissionRequest:
        op = ops.Reply(request_id, reply, message, session_id, scope)
        return self._transport.handle(op)

    def withdraw(self, request_id: str) -> PermissionRequest:
        """Take back a request this client asked: it ends rejected, ``decidedBy: asker``,
        alone.  Raises AlreadyDecided (holding the final state) if it had ended."""
        return self._transport.handle(ops.Withdraw(request_id))

    def saved(
        self, *, scope: str | None = None, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[SavedApproval]:
        """A page of saved approvals, in the order they were saved."""
        return self._transport.handle(ops.ListSaved(scope, limit, cursor))

    def revoke(self, approval_id: str) -> SavedApproval:
        return self._transport.handle(ops.RevokeSaved(approval_id))

    def history(self, **filters: Any) -> Page[PermissionRequest]:
        """A page of the audit log, newest first.  Filters: ``session_id``, ``state``,
        ``limit``, ``decider``, ``since``/``until`` (Unix ms); where it starts:
        ``cursor`` (a page's ``next_cursor``) or ``before`` (a request id)."""
        return self._transport.handle(ops.History(**filters))

    def walk(self, fetch: Callable[..., Page[T]], /, *args: Any, **kwargs: Any) -> Iterator[T]:
        """Every row of a list method's pages: ``fetch(*args, **kwargs)``, then again
        with each page's ``next_cursor`` until the last page.  A page is fetched when
        the rows before it are used up."""
        cursor = kwargs.pop("cursor", None)
        while True:
            page = fetch(*args, cursor=cursor, **kwargs)
            yield from page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    # events
    def events(self, types: Iterable[str] | None = None, *, directory: str | None = None) -> Any:
        """``with client.events(["permission.asked"]) as stream: for event in stream``."""
        return self._transport.events(types, directory)


class AsyncClient:
    """The trio client: the same methods as :class:`Client`, awaited.

    Cancel-safe: a cancelled call leaves nothing waiting (the message may still have
    been delivered).  Holds no thread per call or per wait.
    """

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport

    @classmethod
    def in_process(cls, *, decided_by: Decider = BY_USER) -> AsyncClient:
        return cls(AsyncLocalTransport(decided_by))

    @classmethod
    def connect(
        cls, url: str, *, password: str | None = None, timeout: float = 30.0
    ) -> AsyncClient:
        from ._remote import AsyncRemoteTransport  # noqa: PLC0415 - httpx only when used

        return cls(AsyncRemoteTransport(url, password=password, timeout=timeout))

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def create_session(
        self,
        directory: str,
        *,
        title: str | None = None,
        parent_id: str | None = None,
        permission: Sequence[Mapping[str, str]] = (),
    ) -> Session:
        op = ops.CreateSession(directory, title, parent_id, tuple(permission))
        return await self._transport.handle(op)

    async def get_session(self, session_id: str) -> Session:
        return await self._transport.handle(ops.GetSession(session_id))

    async def list_sessions(
        self, directory: str | None = None, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[Session]:
        op = ops.ListSessions(directory, limit, cursor)
        return await self._transport.handle(op)

    async def abort_session(self, session_id: str) -> None:
        await self._transport.handle(ops.AbortSession(session_id))

    async def ask(
        self,
        session_id: str,
        permission: str,
        patterns: Sequence[str] = (),
        *,
        metadata: Mapping[str, Any] | None = None,
        always: Sequence[str] = (),
        timeout: float | None = None,
        wait: bool = False,
    ) -> PermissionRequest:
        op = ops.Ask(
            session_id, permission, tuple(patterns), dict(metadata or {}), tuple(always),
            timeout, wait,
        )  # fmt: skip
        return await self._transport.handle(op)

    async def get(self, request_id: str) -> PermissionRequest:
        return await self._transport.handle(ops.GetPermission(request_id))

    async def wait(self, request_id: str, *, timeout: float | None = None) -> PermissionRequest:
        return await self._transport.handle(ops.WaitPermission(request_id, timeout))

    async def pending(
        self,
        *,
        directory: str | None = None,
        session_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[PermissionRequest]:
        op = ops.ListPending(directory, session_id, limit, cursor)
        return await self._transport.handle(op)

    async def inbox(self, *, limit: int = DEFAULT_LIMIT) -> Inbox:
        """Every directory's pending requests (see :meth:`Client.inbox`)."""
        return await self._transport.handle(ops.ListInbox(limit))

    async def reply(
        self,
        request_id: str,
        reply: str,
        *,
        message: str | None = None,
        session_id: str | None = None,
        scope: str = "session",
    ) -> PermissionRequest:
        op = ops.Reply(request_id, reply, message, session_id, scope)
        return await self._transport.handle(op)

    async def withdraw(self, request_id: str) -> PermissionRequest:
        """Take back a request (see :meth:`Client.withdraw`)."""
        return await self._transport.handle(ops.Withdraw(request_id))

    async def saved(
        self, *, scope: str | None = None, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[SavedApproval]:
        return await self._transport.handle(ops.ListSaved(scope, limit, cursor))

    async def revoke(self, approval_id: str) -> SavedApproval:
        return await self._transport.handle(ops.RevokeSaved(approval_id))

    async def history(self, **filters: Any) -> Page[PermissionRequest]:
        """A page of the audit log, newest first (the filters of :meth:`Client.history`)."""
        return await self._transport.handle(ops.History(**filters))

    async def walk(
        self, fetch: Callable[..., Awaitable[Page[T]]], /, *args: Any, **kwargs: Any
    ) -> AsyncIterator[T]:
        """Every row of a list method's pages (see :meth:`Client.walk`):
        ``async for session in client.walk(client.list_sessions, directory)``."""
        cursor = kwargs.pop("cursor", None)
        while True:
            page = await fetch(*args, cursor=cursor, **kwargs)
            for row in page:
                yield row
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def events(self, types: Iterable[str] | None = None, *, directory: str | None = None) -> Any:
        """``async with client.events([...]) as stream: async for event in stream``."""
        return self._transport.events(types, directory)

"""``agentactors watch``: every directory's pending requests (or one directory's), live,
answered from the terminal.

A Textual app (asyncio) over the HTTP client (:class:`~agentactors.client.AsyncClient`:
httpx runs on asyncio as on trio).  It opens the event stream (``/global/event``; one
directory's: ``/event``), then lists the pending requests (the inbox's list; one
directory's: ``/permission``; the stream is subscribed before its answer begins, so
nothing asked in between is missed), then follows ``permission.asked`` and
``permission.replied``.  Each row names its request's project when watching every
directory.  When
the stream breaks it shows *disconnected*, retries with a doubling delay, and on
reconnecting lists again; a request that ended meanwhile gets its log line from its
final state.  A ``bus.lagged`` (events lost) also lists again.

Keys: arrows choose, ``o`` once, ``a`` always (a dialog shows the patterns it saves and
asks for the scope), ``r`` reject (a dialog asks for the message the agent gets), ``q``
quits.  A request decided elsewhere leaves the list with a log line saying who decided
it; if it was the chosen one nothing is chosen after it (a key meant for it never lands
on its neighbour).  An answer to a request that had already ended (409) or is gone (404)
is a log line.  A refused password ends the app (``failure``, exit 2).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

import attrs
import httpx
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Log, OptionList, Static
from textual.widgets.option_list import Option

from agentactors import _watch_view as view
from agentactors.client import AsyncClient, Unauthorized
from agentactors.model import (
    MAX_LIMIT,
    AgentActorsError,
    AlreadyDecided,
    Event,
    PermissionNotFound,
    PermissionRequest,
    Session,
    SessionNotFound,
    now_ms,
    wire,
)
from agentactors.policy.shell import display_text

EVENTS = ("permission.asked", "permission.replied", "bus.lagged")
UNAUTHORIZED = "the server refused the password: set AGENTACTORS_SERVER_PASSWORD"
FAILURES = (httpx.HTTPError, AgentActorsError)
"""What a call to the server may raise that is not a bug here: the app says it, goes on."""


@attrs.frozen
class Backoff:
    """Seconds between reconnection attempts: ``first``, doubling up to ``most``."""

    first: float = 0.5
    most: float = 5.0


class WatchApp(App[None]):
    """The pending requests of ``directory`` (None: of every directory) on the server at
    ``url``.

    ``failure`` says why the app ended itself (exit code 2), else None.  ``log_lines``
    holds the log's lines, ``status`` the status line's text.
    """

    TITLE = "agentactors watch"
    CSS = """
    #status { height: 1; background: $boost; padding: 0 1; }
    #main { height: 1fr; }
    #pending { width: 2fr; }
    #detail { width: 3fr; padding: 0 1; border-left: solid $primary; }
    #log { height: 8; border-top: solid $primary; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "once", "once"),
        Binding("a", "always", "always…"),
        Binding("r", "reject", "reject…"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(
        self,
        url: str,
        *,
        password: str | None,
        directory: str | None,
        backoff: Backoff = Backoff(),
    ) -> None:
        super().__init__()
        self.url = url
        self.password = password
        self.directory = directory
        self.backoff = backoff
        self.pending: dict[str, PermissionRequest] = {}  # in the order asked
        self.sessions: dict[str, Session | None] = {}
        self.chosen: str | None = None
        self.vanished: str | None = None  # the chosen request that ended: a note for the pane
        self.inflight: set[str] = set()  # our answers not yet answered
        self.logged: set[str] = set()  # requests whose decision has its log line
        self.connected = False
        self.status = "connecting…"
        self.failure: str | None = None
        self.log_lines: list[str] = []
        self._client: AsyncClient | None = None

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        with Horizontal(id="main"):
            yield OptionList(id="pending")
            yield Static(id="detail")
        yield Log(id="log")
        yield Footer()

    def on_mount(self) -> None:
        self._client = AsyncClient.connect(self.url, password=self.password, timeout=10.0)
        self.query_one("#log", Log).can_focus = False  # the keys are the list's
        self.query_one("#pending", OptionList).focus()
        self._show_status()
        self._show_detail()
        self.set_interval(1.0, self._show_detail)  # age and time left
        self.run_worker(self._follow(), name="follow", exit_on_error=True)

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    @property
    def client(self) -> AsyncClient:
        assert self._client is not None, "the client opens at mount"
        return self._client

    # --- following the server ----------------------------------------------------------

    async def _follow(self) -> None:
        """Stream, list, apply events; on a break, wait and again, until the app ends."""
        delay = self.backoff.first
        while True:
            try:
                async with self.client.events(EVENTS, directory=self.directory) as stream:
                    await self._reload()
                    self._set_connected(True, "connected")
                    delay = self.backoff.first
                    async for event in stream:
                        await self._apply(event)
                reason = "the server ended the stream"
            except Unauthorized:
                self._fail(UNAUTHORIZED)
                return
            except FAILURES as exc:
                reason = _reason(exc)
            self._set_connected(False, f"disconnected ({reason}); retrying in {delay:g}s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff.most)

    async def _reload(self) -> None:
        """List the pending requests again; those that ended meanwhile get their line."""
        fresh = {request.id: request for request in await self._listing()}
        for request_id, request in list(self.pending.items()):
            if request_id not in fresh and request_id not in self.inflight:
                await self._ended(request_id, request, await self._final(request_id))
        for request in fresh.values():
            await self._session(request.session_id)
        self.pending = fresh  # the list shows what this holds, in the same step
        self._show_list()

    async def _listing(self) -> list[PermissionRequest]:
        """The pending requests in the order asked: the directory's, or the newest
        ``MAX_LIMIT`` of every directory (a log line says how many more there are)."""
        client = self.client
        if self.directory is not None:
            rows = client.walk(client.pending, directory=self.directory, limit=MAX_LIMIT)
            return [request async for request in rows]
        inbox = await client.inbox(limit=MAX_LIMIT)
        if inbox.total > len(inbox.requests):
            more = inbox.total - len(inbox.requests)
            self._note(f"showing the newest {len(inbox.requests)}; {more} older not shown")
        return list(reversed(inbox.requests))

    async def _apply(self, event: Event) -> None:
        if event.type == "permission.asked":
            request = wire.parse_request(dict(event.properties))
            if self.directory is None and event.directory:  # the global stream says where
                request = attrs.evolve(request, directory=event.directory)
            await self._session(request.session_id)
            if request.id not in self.pending:  # the listing may have had it
                self.pending[request.id] = request
                self._show_list()
        elif event.type == "permission.replied":
            request_id = str(event.properties.get("requestID"))
            about = self.pending.get(request_id)
            if request_id not in self.inflight:  # else our answer's own outcome says it
                await self._ended(request_id, about, _final_of(request_id, about, event))
        elif event.type == "bus.lagged":
            await self._reload()

    async def _final(self, request_id: str) -> PermissionRequest | None:
        try:
            return await self.client.get(request_id)
        except PermissionNotFound:
            return None

    async def _session(self, session_id: str) -> Session | None:
        if session_id not in self.sessions:
            try:
                self.sessions[session_id] = await self.client.get_session(session_id)
            except SessionNotFound:
                self.sessions[session_id] = None
        return self.sessions[session_id]

    async def _ended(
        self,
        request_id: str,
        about: PermissionRequest | None,
        final: PermissionRequest | None,
        *,
        mine: bool = False,
        late: str | None = None,
    ) -> None:
        """The request left the pending list: its log line (once, but for each answer of
        ours that came ``late``), the list redrawn."""
        if late is not None:
            self._note(f"your {late} came too late: " + view.decision(request_id, about, final))
        elif request_id not in self.logged:
            self._note(view.decision(request_id, about, final, mine=mine))
        self.logged.add(request_id)
        if self.pending.pop(request_id, None) is not None:
            self._show_list()

    # --- answering ---------------------------------------------------------------------

    def _chosen_request(self) -> PermissionRequest | None:
        request = self.pending.get(self.chosen) if self.chosen else None
        if request is None:
            self.bell()
            self.notify("choose a request first (↑/↓)", severity="warning")
        return request

    def action_once(self) -> None:
        request = self._chosen_request()
        if request is not None:
            self._send(request, "once")

    def action_always(self) -> None:
        request = self._chosen_request()
        if request is None:
            return

        def answered(scope: str | None) -> None:
            if scope is not None:
                self._send(request, "always", scope=scope)

        session = self.sessions.get(request.session_id)
        self.push_screen(AlwaysScreen(request, session), answered)

    def action_reject(self) -> None:
        request = self._chosen_request()
        if request is None:
            return

        def answered(message: str | None) -> None:
            if message is not None:
                self._send(request, "reject", message=message or None)

        self.push_screen(RejectScreen(request), answered)

    def _send(
        self,
        request: PermissionRequest,
        reply: str,
        *,
        message: str | None = None,
        scope: str = "session",
    ) -> None:
        self.inflight.add(request.id)
        self.run_worker(self._reply(request, reply, message, scope), group="reply")

    async def _reply(
        self, request: PermissionRequest, reply: str, message: str | None, scope: str
    ) -> None:
        try:
            final = await self.client.reply(request.id, reply, message=message, scope=scope)
        except AlreadyDecided as exc:
            await self._ended(request.id, request, exc.request, late=reply)
        except PermissionNotFound:
            await self._ended(request.id, request, None, late=reply)
        except Unauthorized:
            self._fail(UNAUTHORIZED)
        except FAILURES as exc:
            self._note(f"{request.id}: {reply} not sent ({_reason(exc)})")
        else:
            await self._ended(request.id, request, final, mine=True)
        finally:
            self.inflight.discard(request.id)

    # --- showing -----------------------------------------------------------------------

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.chosen = event.option.id
        self.vanished = None
        self._show_detail()

    def _show_list(self) -> None:
        """Redraw the list, newest first, keeping the chosen request chosen; if it ended,
        nothing is chosen."""
        if not self.is_running:  # shutting down: the widgets may be gone
            return
        options = self.query_one("#pending", OptionList)
        chosen = self.chosen
        options.set_options(
            Option(Text(view.row(request)), id=request.id)
            for request in reversed(self.pending.values())
        )
        if chosen is not None and chosen in self.pending:
            options.highlighted = options.get_option_index(chosen)
        elif chosen is not None:
            self.chosen, self.vanished = None, chosen
        self._show_status()
        self._show_detail()

    def _show_detail(self) -> None:
        if not self.is_running:
            return
        pane = self.query_one("#detail", Static)
        request = self.pending.get(self.chosen) if self.chosen else None
        if request is not None:
            session = self.sessions.get(request.session_id)
            pane.update(Text(view.detail(request, session, now_ms())))
        elif self.vanished is not None:
            pane.update(Text(f"{self.vanished} has ended (see the log).\nChoose another: ↑/↓"))
        elif self.pending:
            pane.update(Text("Choose a request: ↑/↓"))
        else:
            pane.update(Text("Nothing is pending."))

    def _set_connected(self, connected: bool, status: str) -> None:
        self.connected, self.status = connected, status
        self._show_status()

    def _show_status(self) -> None:
        if not self.is_running:
            return
        where = self.directory or "every directory"
        line = f"{self.url}  {where}  {self.status}  pending: {len(self.pending)}"
        self.query_one("#status", Static).update(Text(line))

    def _note(self, line: str) -> None:
        self.log_lines.append(line)
        if not self.is_running:
            return
        self.query_one("#log", Log).write_line(f"{time.strftime('%H:%M:%S')} {line}")

    def _fail(self, why: str) -> None:
        self.failure = why
        self.exit(return_code=2)


class RejectScreen(ModalScreen[str | None]):
    """Asks for the message the agent gets; Enter rejects (an empty message is none),
    Escape cancels (None)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]
    DEFAULT_CSS = """
    RejectScreen { align: center middle; }
    #dialog { width: 80%; height: auto; border: thick $error; padding: 1 2; }
    #dialog { background: $surface; }
    """

    def __init__(self, request: PermissionRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(f"Reject {self.request.id}: {view.row(self.request)}"))
            yield Input(placeholder="a message for the agent (optional)", id="message")
            yield Static("Enter: reject   Escape: cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class AlwaysScreen(ModalScreen[str | None]):
    """Shows the patterns an ``always`` saves and asks where: ``s`` this session, ``p``
    this project (the session's directory); Escape cancels (None)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "scope('session')", "this session"),
        Binding("p", "scope('project')", "this project"),
        Binding("escape", "cancel", "cancel"),
    ]
    DEFAULT_CSS = """
    AlwaysScreen { align: center middle; }
    #dialog { width: 80%; height: auto; border: thick $success; padding: 1 2; }
    #dialog { background: $surface; }
    """

    def __init__(self, request: PermissionRequest, session: Session | None) -> None:
        super().__init__()
        self.request = request
        self.session = session

    def compose(self) -> ComposeResult:
        project = f" ({display_text(self.session.directory)})" if self.session else ""
        saved = "\n".join(f"  {display_text(p)}" for p in view.saved_patterns(self.request))
        text = (
            f"Always allow {display_text(self.request.permission)}, saving:\n{saved}\n\n"
            f"s: for this session   p: for this project{project}   Escape: cancel"
        )
        with Vertical(id="dialog"):
            yield Static(Text(text))

    def action_scope(self, scope: str) -> None:
        self.dismiss(scope)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _final_of(request_id: str, about: PermissionRequest | None, event: Event) -> PermissionRequest:
    """A request's final state from its ``permission.replied`` event (and what was known)."""
    props: dict[str, Any] = dict(event.properties)
    changes: dict[str, Any] = {
        "state": props.get("state", "replied"),
        "reply": props.get("reply"),
        "message": props.get("message"),
        "decided_by": wire.parse_decider(props.get("decidedBy")),
    }
    if about is not None:
        return attrs.evolve(about, **changes)
    session_id = str(props.get("sessionID", ""))
    return PermissionRequest(request_id, session_id, "", "", (), **changes)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    if isinstance(exc, AgentActorsError):
        return exc.message
    return str(exc) or type(exc).__name__

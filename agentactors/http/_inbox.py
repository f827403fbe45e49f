"""The inbox page at ``/``: the page, its login and logout, and the two JSON views its
script reads besides the API's own routes.

``GET /`` renders the page (``inbox/templates``; the script and stylesheet are served
from ``inbox/static``), or, when a password is set and the browser is not logged in,
the login form.  ``POST /inbox/login`` opens a login (``_login``): an ``HttpOnly;
SameSite=Strict`` cookie, and a CSRF token written into the page for its script to send
back; a try is counted per address before its form is read (429 past the burst), and
only first-party posts are taken (``_auth.first_party``).  The page shows itself to
whom the gate let through (``_auth.Viewer``): a cross-origin request with the cookie
gets the login form.  ``POST /inbox/logout`` ends it.  These three are left out of
``/doc`` (HTML, not the API).

``GET /inbox/pending`` (every directory's pending requests, newest first) and ``GET
/inbox/request/{requestID}`` (one request, any state) add what the page shows and the
API's shapes lack: the shell analyser's display text of the command or path and of the
patterns, what an ``always`` reply saves, and the session's title.  Everything else the
page does goes through the API's routes and ``/global/event``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from quart import Blueprint, Response, g, render_template, request

from agentactors.actors import api
from agentactors.model import PermissionRequest, SessionNotFound, wire
from agentactors.policy import PATH_KEYS

from ._auth import Viewer, first_party, lowered
from ._context import context
from ._doc import answers
from ._errors import error_response
from ._inputs import query, takes_form
from ._json import json_response
from ._login import COOKIE
from ._models import InboxPending, InboxQuery, InboxRequest
from ._quart_schema import hide

_HERE = Path(__file__).parent / "inbox"
blueprint = Blueprint(
    "inbox",
    __name__,
    static_folder=str(_HERE / "static"),
    static_url_path="/inbox/static",
    template_folder=str(_HERE / "templates"),
)

OPEN_PATHS = frozenset({"/", "/inbox/login"})
"""Inbox routes that need no password: the page (it shows the login form itself) and
the login."""
OPEN_PREFIXES = ("/inbox/static/",)
"""The page's script, stylesheet and icon: the login form needs them too."""

_PAGE_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",  # no-referrer would make a form post's Origin null
    "cache-control": "no-store",
}


@blueprint.get("/")
@hide
async def page() -> Response:
    """The inbox, or the login form when a password is set and none was given."""
    ctx = context()
    viewer = _viewer()
    if not viewer.allowed:
        return await _login_page(200)
    login = viewer.login
    html = await render_template(
        "inbox.html",
        csrf=login.csrf if login else "",
        logout=login is not None,
        directory=ctx.settings.directory,
        path_keys=" ".join(PATH_KEYS),
        version=wire.VERSION,
        asset=_asset,
    )
    return Response(html, 200, headers=_PAGE_HEADERS, mimetype="text/html")


@blueprint.post("/inbox/login")
@hide
@takes_form
async def login() -> Response:
    """Check the form's password; open a login (303 to the page) or show the form again
    with the reason (401 wrong, 429 too many tries); 403 for a post from another
    origin."""
    ctx = context()
    password = ctx.settings.password
    if not password:
        return _to_page()
    if not first_party(lowered(request.scope["headers"]), request.scheme):
        return error_response(
            403, "ForbiddenError", "the login form is taken only from the inbox page's own origin"
        )
    address = request.remote_addr or ""
    wait = ctx.attempts.reserve(address)  # counted before the body is awaited
    if wait > 0:
        seconds = math.ceil(wait)
        response = await _login_page(429, f"Too many wrong passwords: try again in {seconds} s.")
        response.headers["retry-after"] = str(seconds)
        return response
    form = await request.form
    given = form.get("password", "").encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(given, password.encode()):
        return await _login_page(401, "Wrong password.")
    ctx.attempts.succeeded(address)
    token, _ = ctx.logins.open()
    response = _to_page()
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(ctx.logins.ttl),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=bool(ctx.settings.certfile),
    )
    return response


@blueprint.post("/inbox/logout")
@hide
async def logout() -> Response:
    """End this browser's login (the gate has checked its CSRF token)."""
    context().logins.close(request.cookies.get(COOKIE))
    response = json_response(True)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict")
    return response


@blueprint.get("/inbox/pending")
@answers(InboxPending)
@query(InboxQuery)
async def inbox_pending(query: InboxQuery) -> Response:
    """Pending requests of every directory, as the inbox shows them, newest first

    At most limit of them (100 unless given, 1,000 at most); total counts them all.
    """
    found = await api.inbox(query.limit)
    titles = await _titles(r.session_id for r in found.requests)
    views = [_view(r, titles.get(r.session_id)) for r in found.requests]
    return json_response({"total": found.total, "requests": views})


@blueprint.get("/inbox/request/<requestID>")
@answers(InboxRequest)
async def inbox_request(requestID: str) -> Response:
    """One request as the inbox shows it, in any state"""
    found = await api.get_permission(requestID)
    titles = await _titles([found.session_id])
    return json_response(_view(found, titles.get(found.session_id)))


def _viewer() -> Viewer:
    """Whom the gate let through to this request."""
    viewer: Viewer = g.viewer
    return viewer


def _to_page() -> Response:
    return Response("", 303, headers={"location": "/", "cache-control": "no-store"})


async def _login_page(status: int, error: str | None = None) -> Response:
    html = await render_template("login.html", error=error, version=wire.VERSION, asset=_asset)
    return Response(html, status, headers=_PAGE_HEADERS, mimetype="text/html")


@cache
def _asset(name: str) -> str:
    """The URL of a static file, with a digest of its content (a changed file is not
    served from a browser's cache)."""
    digest = hashlib.sha256((_HERE / "static" / name).read_bytes()).hexdigest()[:12]
    return f"/inbox/static/{name}?v={digest}"


async def _titles(session_ids: Iterable[str]) -> dict[str, str]:
    """The titles of these sessions (a deleted session has none)."""
    titles: dict[str, str] = {}
    for session_id in set(session_ids):
        try:
            titles[session_id] = (await api.get_session(session_id)).title
        except SessionNotFound:
            pass
    return titles


def _view(request: PermissionRequest, title: str | None) -> dict[str, Any]:
    # The shell analyser loads with the first view, not at start-up (tree-sitter is slow
    # to import).
    from agentactors.policy.shell import display_text  # noqa: PLC0415

    subject = _subject(request.metadata)
    return {
        "request": wire.request_state(request),
        "display": {
            "text": None if subject is None else display_text(subject),
            "patterns": [display_text(p) for p in request.patterns],
            "saves": [display_text(p) for p in request.saves],
            "notes": [display_text(n) for n in _notes(request.metadata)],
        },
        "sessionTitle": title,
    }


def _subject(metadata: Mapping[str, Any]) -> str | None:
    """What a request is about: its command, else the first file path its metadata
    names."""
    command = metadata.get("command")
    if isinstance(command, str) and command.strip():
        return command
    for key in PATH_KEYS:
        value = metadata.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _notes(metadata: Mapping[str, Any]) -> list[str]:
    """What the permission service noted on the request for the person asked."""
    notes: list[str] = []
    reasons = metadata.get("opaqueReasons")
    if metadata.get("opaque") is True and isinstance(reasons, list):
        notes.extend(f"rules cannot see all of it: {r}" for r in reasons if isinstance(r, str))
    protected = metadata.get("protected")
    if isinstance(protected, list):
        notes.extend(f"writes a protected path: {p}" for p in protected if isinstance(p, str))
    return notes

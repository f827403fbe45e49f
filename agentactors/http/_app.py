"""The app factory: the quart-trio app with every route, behind the gate.

:func:`create_app` builds the app from the route table (the same table ``/doc`` is made
from); it starts nothing.  The services must be running (``start_services``) before the
app answers requests: handlers look them up by name on every call.
"""

from __future__ import annotations

import attrs
from quart import Response, request
from quart_trio import QuartTrio

from agentactors.actors import AgentActorsError, Config

from . import _routes_native, _routes_opencode, _routes_session
from ._asgi import Guard
from ._auth import Policy
from ._errors import render
from ._openapi import document
from ._settings import Settings
from ._table import Context, Route, error_headers, json_response, register

ROUTES: tuple[Route, ...] = _routes_opencode.ROUTES + _routes_session.ROUTES + _routes_native.ROUTES
"""Every route of the server, in the order ``/doc`` lists them."""


@attrs.define(eq=False)
class App:
    """The ASGI app to serve (``asgi``), the quart app inside it, and their context."""

    asgi: Guard
    quart: QuartTrio
    context: Context


def create_app(
    settings: Settings, config: Config, *, console: tuple[str, int] | None = None
) -> App:
    """Build the app.  Never blocks; starts nothing."""
    quart = QuartTrio(__name__)
    quart.config["MAX_CONTENT_LENGTH"] = settings.max_body
    context = Context(settings, config, console=console)
    context.document = document(ROUTES, password=bool(settings.password))
    register(quart, ROUTES, context)
    quart.register_error_handler(Exception, _on_error)
    policy = Policy(
        password=settings.password,
        check_host=settings.loopback,
        cors=frozenset(origin.rstrip("/") for origin in settings.cors),
        open_paths=frozenset(route.path for route in ROUTES if not route.auth),
    )
    return App(Guard(quart, policy), quart, context)


async def _on_error(exc: Exception) -> Response:
    """Errors raised outside the views (an unknown route, a wrong method) as JSON."""
    status, body = render(exc)
    if status in (404, 405) and not isinstance(exc, AgentActorsError):
        what = "no route" if status == 404 else "method not allowed"
        body["message"] = f"{what}: {request.method} {request.path}"
    return json_response(status, body, error_headers(exc))

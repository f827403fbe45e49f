"""The app: the gate, the router and the route table behind one ``__call__``.

:func:`create_app` builds it from the route table (the same table ``/doc`` is made
from); it starts nothing.  The services must be running (``start_services``) before the
app answers requests: handlers look them up by name on every call.
"""

from __future__ import annotations

import attrs

from agentactors.actors import Config

from . import _routes_native, _routes_opencode, _routes_session
from ._auth import Policy, Refusal, cors_headers, verdict
from ._errors import HttpError, MethodNotAllowed, render
from ._messages import Request, Response, error_response, json_response
from ._openapi import document
from ._router import Router, answer, error_headers
from ._settings import Settings
from ._table import Context, Route

ROUTES: tuple[Route, ...] = _routes_opencode.ROUTES + _routes_session.ROUTES + _routes_native.ROUTES
"""Every route of the server, in the order ``/doc`` lists them."""


@attrs.define(eq=False)
class App:
    """Answers a :class:`Request` (the server calls it).  Never blocks; cancel-safe.

    In order: the gate (``_auth.verdict``: Host, Origin, CORS preflight, password), the
    route (404, 405), the route's parsing and handler (``_router.answer``), then CORS
    headers for an allowed origin.
    """

    router: Router
    policy: Policy
    context: Context

    async def __call__(self, request: Request) -> Response:
        refusal = verdict(self.policy, request.method, request.path, request.headers)
        if refusal is not None:
            return _refuse(refusal)
        try:
            match = self.router.match(request.method, request.path)
        except MethodNotAllowed as exc:
            if request.method == "OPTIONS":  # no preflight: say what the path takes
                response = Response(204, error_headers(exc) or [])
            else:
                status, body = render(exc)
                response = json_response(status, body, error_headers(exc))
        except HttpError as exc:
            status, body = render(exc)
            response = json_response(status, body, error_headers(exc))
        else:
            response = await answer(match, self.context, request)
        for name, value in request.headers:
            if name == b"origin":
                response.headers.extend(cors_headers(value))
                break
        return response


def create_app(
    settings: Settings, config: Config, *, console: tuple[str, int] | None = None
) -> App:
    """Build the app.  Never blocks; starts nothing."""
    context = Context(settings, config, console=console)
    context.document = document(ROUTES, password=bool(settings.password))
    policy = Policy(
        password=settings.password,
        check_host=settings.loopback,
        cors=frozenset(origin.rstrip("/") for origin in settings.cors),
        open_paths=frozenset(route.path for route in ROUTES if not route.auth),
    )
    return App(Router(ROUTES), policy, context)


def _refuse(refusal: Refusal) -> Response:
    if refusal.status == 204:  # a CORS preflight: no body
        return Response(204, list(refusal.headers))
    return error_response(refusal.status, refusal.tag, refusal.message, list(refusal.headers))

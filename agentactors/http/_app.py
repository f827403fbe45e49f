"""The app: a QuartTrio app with the routes in blueprints, the gate in front of them, and
``/doc`` from quart-schema.

:func:`create_app` builds it; it starts nothing.  The services must be running
(``start_services``) before the app answers requests: handlers look them up by name on
every call.  In order, for every request: the gate (``_auth.verdict``: Host, Origin, CORS
preflight, password; unknown routes included), the path ids, the route's input
(``_inputs``), the handler, then CORS headers for an allowed origin.
"""

from __future__ import annotations

import trio
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable
from quart import Response, g, request
from quart_trio import QuartTrio
from quart_trio.asgi import TrioASGIHTTPConnection

from agentactors.model import wire
from agentactors.policy import Config

from . import (
    _errors,
    _inbox,
    _routes_debug,
    _routes_hooks,
    _routes_native,
    _routes_opencode,
    _routes_session,
    _sse,
)
from ._auth import GateAnswer, Policy, allowed_origin, cors_headers, verdict
from ._context import KEY, Context
from ._doc import Provider
from ._inputs import check_path_ids, no_body
from ._quart_schema import QuartSchema
from ._settings import Settings

OPEN_PATHS = frozenset({"/global/health"}) | _inbox.OPEN_PATHS
"""Routes that need no password (the inbox page shows its login form itself)."""


class _HTTPConnection(TrioASGIHTTPConnection):
    """quart-trio 0.12's HTTP connection, one task lighter: the request is handled in
    the task hypercorn gives the app, and only the reader of ASGI messages (which sees
    ``http.disconnect`` and cancels the request) is a task of its own.  Same behaviour."""

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        request = self._create_request_from_scope(send)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.handle_messages, nursery, request, receive)
            await self.handle_request(nursery, request, send)


class App(QuartTrio):
    """QuartTrio with a lighter connection (:class:`_HTTPConnection`) and OpenCode's
    answer to a plain ``OPTIONS``: 204 and what the path takes (a CORS preflight is
    answered by the gate)."""

    asgi_http_class = _HTTPConnection

    async def make_default_options_response(self) -> Response:
        response = await super().make_default_options_response()
        allowed = {m.strip() for m in response.headers.get("Allow", "").split(",")}
        return Response("", 204, headers={"Allow": ", ".join(sorted(allowed - {"OPTIONS"}))})


def create_app(
    settings: Settings, config: Config, *, console: tuple[str, int] | None = None
) -> App:
    """Build the app.  Never blocks; starts nothing."""
    app = App("agentactors")
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body,
        RESPONSE_TIMEOUT=None,  # streams end with their client, the bus or a shutdown
    )
    app.extensions[KEY] = ctx = Context(settings, config, console=console)
    password = bool(settings.password)
    QuartSchema(
        app,
        openapi_path="/doc",
        redoc_ui_path=None,
        scalar_ui_path=None,
        swagger_ui_path=None,
        info={
            "title": "agentactors",
            "version": wire.VERSION,
            "description": "Permissions and events for AI agents, OpenCode-compatible.",
        },
        conversion_preference="msgspec",
        security_schemes=(
            {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
            }
            if password
            else None
        ),
        security=[{"basic": []}, {"bearer": []}] if password else None,
        openapi_provider_class=Provider,
    )
    blueprints = (
        _routes_opencode, _sse, _routes_session, _routes_native, _routes_debug,
        _inbox, _routes_hooks,
    )  # fmt: skip
    for module in blueprints:
        app.register_blueprint(module.blueprint)
    _errors.install(app)
    policy = Policy(
        password=settings.password,
        check_host=settings.loopback,
        cors=frozenset(origin.rstrip("/") for origin in settings.cors),
        open_paths=OPEN_PATHS,
        open_prefixes=_inbox.OPEN_PREFIXES,
    )

    @app.before_request
    async def gate() -> Response | None:
        answer = verdict(
            policy,
            request.method,
            request.path,
            request.scope["headers"],
            scheme=request.scheme,
            client=request.remote_addr or "",
            logins=ctx.logins,
            attempts=ctx.attempts,
        )
        if isinstance(answer, GateAnswer):
            return _gate_answer(answer)
        g.viewer = answer  # whom the inbox page shows itself to (_inbox.viewer)
        check_path_ids(request.view_args)
        await no_body(app.view_functions.get(request.endpoint or ""))
        return None

    @app.after_request
    async def cors(response: Response) -> Response:
        origin = request.headers.get("origin")
        if origin is not None and allowed_origin(policy, origin.encode("latin-1")):
            for name, value in cors_headers(origin.encode("latin-1")):
                response.headers[name.decode()] = value.decode("latin-1")
        return response

    return app


def _gate_answer(answer: GateAnswer) -> Response:
    headers = {name.decode(): value.decode("latin-1") for name, value in answer.headers}
    if answer.status == 204:  # a CORS preflight: no body
        return Response("", 204, headers=headers)
    response = _errors.error_response(answer.status, answer.tag, answer.message)
    response.headers.update(headers)
    return response

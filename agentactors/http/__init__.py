"""The HTTP face: a QuartTrio app (routes in blueprints, ``/doc`` from quart-schema),
served by hypercorn inside the same ``trio.run`` as the actors' bridge, so one process
holds the registry.  See ``design/http.md``.
"""

from ._app import App, create_app
from ._repl import ConsoleServer, attach
from ._serve import HttpServer, hypercorn_config, run, serve_until_signal
from ._settings import MAX_BODY, PASSWORD_ENV, USERNAME, Settings, StartRefused, is_loopback

__all__ = [
    "MAX_BODY",
    "PASSWORD_ENV",
    "USERNAME",
    "App",
    "ConsoleServer",
    "HttpServer",
    "Settings",
    "StartRefused",
    "attach",
    "create_app",
    "hypercorn_config",
    "is_loopback",
    "run",
    "serve_until_signal",
]

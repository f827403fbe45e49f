"""The HTTP server: a thin adapter over the named services (contract §3).

HTTP/1.1 (httptools) on trio sockets, served inside the same ``trio.run`` as the actors' bridge, so
one process holds the registry.  The work lives in the private modules; see
``design/http.md``.
"""

from ._app import ROUTES, App, create_app
from ._openapi import document
from ._repl import ConsoleServer, attach
from ._serve import HttpServer, run, serve_until_signal
from ._settings import MAX_BODY, PASSWORD_ENV, USERNAME, Settings, StartRefused, is_loopback
from ._table import Call, Param, Route

__all__ = [
    "MAX_BODY",
    "PASSWORD_ENV",
    "ROUTES",
    "USERNAME",
    "App",
    "Call",
    "ConsoleServer",
    "HttpServer",
    "Param",
    "Route",
    "Settings",
    "StartRefused",
    "attach",
    "create_app",
    "document",
    "is_loopback",
    "run",
    "serve_until_signal",
]

"""The HTTP face: a QuartTrio app (routes in blueprints, ``/doc`` from quart-schema),
served by hypercorn inside the same ``trio.run`` as the actors' bridge, so one process
holds the registry.  See ``design/http.md``.
"""

from ._repl import ConsoleServer, attach
from ._serve import HttpServer, run
from ._settings import PASSWORD_ENV, Settings, StartRefused

__all__ = [
    "PASSWORD_ENV",
    "ConsoleServer",
    "HttpServer",
    "Settings",
    "StartRefused",
    "attach",
    "run",
]

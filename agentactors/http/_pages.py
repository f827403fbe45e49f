"""The answer of a list route: one page as a JSON array (the shape OpenCode's clients
read), and where the next page starts in two headers, absent on the last page:
``Link: </path?...&cursor=C>; rel="next"`` (this request's URL, relative, with its
filters and the next cursor) and ``x-next-cursor: C``.  Trio thread; never blocks.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from quart import Response, request

from agentactors.model import Page

from ._json import json_response

_REPLACED = frozenset({"cursor", "before"})
"""Query parameters the next page's URL drops (``before`` gives way to the cursor)."""


def page_response(body: list[Any], page: Page[Any], *, directory: str | None = None) -> Response:
    """``body`` (the rendered rows of ``page``) with the next page's headers.  A scoped
    route passes the ``directory`` in scope: the link names it, so a client following
    it needs no header."""
    response = json_response(body)
    cursor = page.next_cursor
    if cursor is not None:
        replaced = _REPLACED if directory is None else _REPLACED | {"directory"}
        params = [(k, v) for k, v in request.args.items(multi=True) if k not in replaced]
        if directory is not None:
            params.append(("directory", directory))
        params.append(("cursor", cursor))
        response.headers["Link"] = f'<{request.path}?{urlencode(params)}>; rel="next"'
        response.headers["x-next-cursor"] = cursor
    return response

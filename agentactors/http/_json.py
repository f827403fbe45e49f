"""JSON answers: compact UTF-8, keys in the order they were made."""

from __future__ import annotations

import json
from typing import Any

from quart import Response

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(value: Any) -> str:
    """``value`` as compact JSON text.  Raises TypeError/ValueError if it cannot be."""
    return _encode(value)


def json_response(value: Any, status: int = 200) -> Response:
    """A JSON answer (``content-type: application/json``)."""
    return Response(_encode(value), status, mimetype="application/json")

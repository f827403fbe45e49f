"""quart-schema, imported without pydantic.

quart-schema 0.25 imports pydantic and pydantic_core at import time whenever they are
installed (to support pydantic models), which slows every start.  This server uses
msgspec only.  So while quart_schema is first imported, pydantic is marked absent
(``None`` in ``sys.modules`` makes its import raise ImportError), then the marks are
removed: quart-schema takes its msgspec path, and anything else in the process (a plugin)
may still import pydantic as usual.  Where pydantic is already imported, nothing is
hidden.  The other modules of ``http`` import quart-schema's names from here.
"""

from __future__ import annotations

import sys

_HIDDEN = ("pydantic", "pydantic.dataclasses", "pydantic_core")

_marked = [name for name in _HIDDEN if name not in sys.modules]
for _name in _marked:
    sys.modules[_name] = None  # type: ignore[assignment] # the documented way to block an import
try:
    from quart_schema import OpenAPIProvider, QuartSchema, deprecate, hide, security_scheme
    from quart_schema.openapi import QUART_SCHEMA_HIDDEN_ATTRIBUTE
    from quart_schema.validation import (
        QUART_SCHEMA_HEADERS_ATTRIBUTE,
        QUART_SCHEMA_QUERYSTRING_ATTRIBUTE,
        QUART_SCHEMA_REQUEST_ATTRIBUTE,
        QUART_SCHEMA_RESPONSE_ATTRIBUTE,
        DataSource,
    )
finally:
    for _name in _marked:
        del sys.modules[_name]

__all__ = [
    "QUART_SCHEMA_HEADERS_ATTRIBUTE",
    "QUART_SCHEMA_HIDDEN_ATTRIBUTE",
    "QUART_SCHEMA_QUERYSTRING_ATTRIBUTE",
    "QUART_SCHEMA_REQUEST_ATTRIBUTE",
    "QUART_SCHEMA_RESPONSE_ATTRIBUTE",
    "DataSource",
    "OpenAPIProvider",
    "QuartSchema",
    "deprecate",
    "hide",
    "security_scheme",
]

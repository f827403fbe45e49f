"""The gate in front of the app: Host check, origin check and CORS, password.

Applied by the app (``_app.App``) to every request before routing (unknown routes
too).  In order:

1. **Host** (loopback binds only; DNS rebinding): the Host header must name localhost,
   127.0.0.1 or [::1], with any port; else 403.
2. **Origin**: a request carrying ``Origin`` must come from a loopback origin, one given
   with ``--cors``, or the server itself (the origin names the request's Host: the inbox
   page served on a LAN address); else 403 (this also stops cross-site form posts).  A
   CORS preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered here
   (204), without credentials, as browsers send it.  Allowed origins get CORS headers on
   the answer.
3. **Password** (when ``AGENTACTORS_SERVER_PASSWORD`` is set): HTTP Basic with user
   ``agentactors`` or ``Authorization: Bearer <password>``, compared in constant time, or
   the inbox's login cookie (``_login``), on every route but the open ones (health, the
   inbox page, its login and static files); else 401, with ``WWW-Authenticate: Basic``
   unless the request carried a login cookie (a browser would pop up its own dialog).
   A state-changing request authenticated by the cookie alone must carry the login's
   CSRF token in ``x-csrf-token``; else 403.

:func:`verdict` is the pure decision; ``_app.App`` applies it.  Pure functions.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit

import attrs

from ._login import SAFE_METHODS, Logins, cookie_token
from ._settings import USERNAME, is_loopback

_ALLOW_METHODS = b"GET, POST, PATCH, DELETE, OPTIONS"
_ALLOW_HEADERS = b"authorization, content-type, last-event-id, x-opencode-directory, x-csrf-token"


@attrs.frozen
class Policy:
    """What the gate enforces, from the settings."""

    password: str | None = None
    check_host: bool = True  # a loopback bind: refuse other Host names
    cors: frozenset[str] = frozenset()  # extra allowed origins (``--cors``)
    open_paths: frozenset[str] = frozenset()  # no password needed (health)
    open_prefixes: tuple[str, ...] = ()  # no password needed under these (static files)

    def is_open(self, path: str) -> bool:
        """Whether ``path`` needs no password."""
        return path in self.open_paths or path.startswith(self.open_prefixes)


@attrs.frozen
class GateAnswer:
    """What the gate answers itself, before any route: a refusal (403, 401) or a CORS
    preflight's 204."""

    status: int
    tag: str
    message: str
    headers: tuple[tuple[bytes, bytes], ...] = ()


def verdict(
    policy: Policy,
    method: str,
    path: str,
    headers: Iterable[tuple[bytes, bytes]],
    logins: Logins | None = None,
) -> GateAnswer | None:
    """Refuse the request (the answer to send), or None to let it through.  ``logins``:
    the open browser logins whose cookie stands for the password."""
    found: dict[bytes, bytes] = {}
    for name, value in headers:
        found.setdefault(name.lower(), value)
    host = found.get(b"host")
    if policy.check_host and host is not None and not _loopback_host(host):
        text = host.decode("latin-1")
        return GateAnswer(403, "ForbiddenError", f"Host {text!r} is not allowed on a loopback bind")
    origin = found.get(b"origin")
    if origin is not None and not (allowed_origin(policy, origin) or _same_origin(origin, host)):
        text = origin.decode("latin-1")
        return GateAnswer(403, "ForbiddenError", f"origin {text!r} is not allowed (see --cors)")
    if origin is not None and method == "OPTIONS" and b"access-control-request-method" in found:
        return _preflight(origin, found.get(b"access-control-request-headers"))
    if not policy.password or policy.is_open(path):
        return None
    return _credentials(policy.password, method, found, logins)


def _credentials(
    password: str, method: str, found: dict[bytes, bytes], logins: Logins | None
) -> GateAnswer | None:
    """Refuse a request without the password or a live login cookie (401), or a
    state-changing one that has only the cookie and not its CSRF token (403)."""
    if authorized(found.get(b"authorization"), password):
        return None
    token = cookie_token(found.get(b"cookie"))
    login = logins.find(token) if logins is not None else None
    if login is None:
        challenge = () if token else ((b"www-authenticate", b'Basic realm="agentactors"'),)
        return GateAnswer(
            401,
            "UnauthorizedError",
            "missing or wrong credentials (Basic user agentactors, or Bearer)",
            challenge,
        )
    if method not in SAFE_METHODS and not login.csrf_matches(found.get(b"x-csrf-token")):
        return GateAnswer(
            403, "ForbiddenError", "missing or wrong x-csrf-token for this login cookie"
        )
    return None


def authorized(header: bytes | None, password: str) -> bool:
    """Whether an ``Authorization`` header carries the password (UTF-8 bytes).  Constant
    time in the password's content (``hmac.compare_digest``)."""
    if header is None:
        return False
    scheme, _, value = header.strip().partition(b" ")
    expected = password.encode()
    if scheme.lower() == b"bearer":
        return hmac.compare_digest(value.strip(), expected)
    if scheme.lower() != b"basic":
        return False
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    user, colon, given = decoded.partition(b":")
    user_ok = hmac.compare_digest(user, USERNAME.encode())
    password_ok = hmac.compare_digest(given, expected)
    return bool(colon) and user_ok and password_ok


def allowed_origin(policy: Policy, origin: bytes) -> bool:
    """A loopback origin (http or https, any port), or one listed with ``--cors``."""
    text = origin.decode("latin-1").rstrip("/")
    if text in policy.cors:
        return True
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises on a bad port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and is_loopback(parts.hostname or "")


def _same_origin(origin: bytes, host: bytes | None) -> bool:
    """Whether ``origin`` (http or https) names the host and port the request was sent
    to: the server's own page.  With a password this lets nothing in without it; on a
    loopback bind the Host check has already held."""
    if host is None:
        return False
    try:
        parts = urlsplit(origin.decode("latin-1").rstrip("/"))
    except ValueError:
        return False
    given = host.decode("latin-1").strip().lower()
    return parts.scheme in ("http", "https") and parts.netloc.lower() == given and bool(given)


def _loopback_host(host: bytes) -> bool:
    text = host.decode("latin-1").strip().lower()
    name = text.rpartition("]")[0] + "]" if text.startswith("[") else text.partition(":")[0]
    return name in ("localhost", "127.0.0.1", "[::1]")


def _preflight(origin: bytes, asked_headers: bytes | None) -> GateAnswer:
    """The answer to a CORS preflight from an allowed origin (204, no body)."""
    headers = (
        *cors_headers(origin),
        (b"access-control-allow-methods", _ALLOW_METHODS),
        (b"access-control-allow-headers", asked_headers or _ALLOW_HEADERS),
        (b"access-control-max-age", b"600"),
    )
    return GateAnswer(204, "", "", headers)


def cors_headers(origin: bytes) -> tuple[tuple[bytes, bytes], ...]:
    """The headers of an answer to an allowed origin: its scripts may also read where a
    list's next page starts (``_pages``)."""
    return (
        (b"access-control-allow-origin", origin),
        (b"access-control-allow-credentials", b"true"),
        (b"access-control-expose-headers", b"Link, x-next-cursor"),
        (b"vary", b"Origin"),
    )

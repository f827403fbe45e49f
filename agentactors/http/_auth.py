"""The gate in front of the app: Host check, origin check and CORS, password.

Applied by the app (``_app.App``) to every request before routing (unknown routes
too).  In order:

1. **Host** (loopback binds only; DNS rebinding): the Host header must name localhost,
   127.0.0.1 or [::1], with any port; else 403.
2. **Origin**: a request carrying ``Origin`` must come from a loopback origin, one given
   with ``--cors``, or the server itself (the origin names the request's Host: the inbox
   page served on a LAN address); else 403 (this also stops cross-site form posts).  A
   CORS preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered here
   (204) as browsers send it.  Allowed origins get CORS headers on the answer, never
   ``Access-Control-Allow-Credentials``: another origin's script may read what it asked
   with the password in a header of its own, never with the browser's login cookie.
3. **Password** (when ``AGENTACTORS_SERVER_PASSWORD`` is set): HTTP Basic with user
   ``agentactors`` or ``Authorization: Bearer <password>``, compared in constant time, or
   the inbox's login cookie (``_login``) on a first-party request (:func:`first_party`:
   the page's own origin; a page on another port of the same host is another origin),
   on every route but the open ones (health, the inbox page, its login and static
   files); else 401, with ``WWW-Authenticate: Basic`` unless the request carried a login
   cookie (a browser would pop up its own dialog).  A state-changing request
   authenticated by the cookie alone must carry the login's CSRF token in
   ``x-csrf-token``; else 403.  Wrong passwords in ``Authorization`` count against the
   address's brake (``_login.Attempts``, shared with the login form), open routes
   included; past it every ``Authorization`` from that address is a 429 until the window
   passes.

:func:`verdict` is the decision; ``_app.App`` applies it.  It never blocks; it changes
nothing but the brake's counts.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

import attrs

from ._login import SAFE_METHODS, Attempts, Login, Logins, cookie_token
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
    """What the gate answers itself, before any route: a refusal (403, 401, 429) or a
    CORS preflight's 204."""

    status: int
    tag: str
    message: str
    headers: tuple[tuple[bytes, bytes], ...] = ()


@attrs.frozen
class Viewer:
    """Whom the gate let through: ``allowed`` when no password is set or the request
    carried it (a header, or a first-party login cookie: then ``login``); an open route
    lets a request through without it."""

    allowed: bool
    login: Login | None = None


OPEN = Viewer(allowed=True)
"""No password needed, or the password given in ``Authorization``."""
STRANGER = Viewer(allowed=False)
"""No password given (on an open route)."""


def verdict(
    policy: Policy,
    method: str,
    path: str,
    headers: Iterable[tuple[bytes, bytes]],
    *,
    scheme: str = "http",
    client: str = "",
    logins: Logins | None = None,
    attempts: Attempts | None = None,
) -> GateAnswer | Viewer:
    """The answer to send instead of routing (a refusal), or the :class:`Viewer` to let
    through.  ``scheme``: the request's (http, https); ``client``: its address, for the
    brake; ``logins``: the open browser logins whose cookie stands for the password;
    ``attempts``: the brake on wrong passwords (counts a wrong ``Authorization``)."""
    found = lowered(headers)
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
    if not policy.password:
        return OPEN
    viewer = _credentials(
        policy.password, method, found, scheme=scheme, client=client, logins=logins,
        attempts=attempts,
    )  # fmt: skip
    if isinstance(viewer, GateAnswer) or viewer.allowed or policy.is_open(path):
        return viewer
    return _unauthorized(cookie_token(found.get(b"cookie")), logins)


def _unauthorized(token: str | None, logins: Logins | None) -> GateAnswer:
    """The 401: it asks for Basic only when no login cookie came (a browser would pop
    up its own dialog), and says so when a live one came from another origin."""
    if token is None:
        challenge = ((b"www-authenticate", b'Basic realm="agentactors"'),)
        return GateAnswer(401, "UnauthorizedError", _MISSING, challenge)
    if logins is not None and logins.find(token) is not None:  # not first-party
        return GateAnswer(401, "UnauthorizedError", _FOREIGN)
    return GateAnswer(401, "UnauthorizedError", _MISSING)


_MISSING = "missing or wrong credentials (Basic user agentactors, or Bearer)"
_FOREIGN = "the login cookie counts only on requests from the inbox page's own origin"


def _credentials(
    password: str,
    method: str,
    found: dict[bytes, bytes],
    *,
    scheme: str,
    client: str,
    logins: Logins | None,
    attempts: Attempts | None,
) -> GateAnswer | Viewer:
    """Whom the credentials show: the password in ``Authorization`` (a wrong one is
    counted; 429 while the address is braked), else a live login cookie on a
    first-party request (403 for a state-changing one without its CSRF token), else a
    stranger."""
    header = found.get(b"authorization")
    if header is not None:
        wait = attempts.wait(client) if attempts is not None else 0.0
        if wait > 0:
            return too_many(wait)
        if authorized(header, password):
            if attempts is not None:
                attempts.succeeded(client)
            return OPEN
        if attempts is not None:
            attempts.failed(client)
    if logins is None or not first_party(found, scheme):
        return STRANGER
    login = logins.find(cookie_token(found.get(b"cookie")))
    if login is None:
        return STRANGER
    if method not in SAFE_METHODS and not login.csrf_matches(found.get(b"x-csrf-token")):
        return GateAnswer(
            403, "ForbiddenError", "missing or wrong x-csrf-token for this login cookie"
        )
    return Viewer(allowed=True, login=login)


def too_many(wait: float) -> GateAnswer:
    """The 429 of a braked address, with ``Retry-After`` (whole seconds)."""
    seconds = math.ceil(wait)
    return GateAnswer(
        429,
        "TooManyAttemptsError",
        f"too many wrong passwords from this address: try again in {seconds} s",
        ((b"retry-after", str(seconds).encode()),),
    )


def lowered(headers: Iterable[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """Raw ASGI headers by lower-case name (the first of a repeated one)."""
    found: dict[bytes, bytes] = {}
    for name, value in headers:
        found.setdefault(name.lower(), value)
    return found


def first_party(found: Mapping[bytes, bytes], scheme: str) -> bool:
    """Whether a request (its headers, lower-case names) comes from the server's own
    origin, as far as a browser says: an ``Origin`` must be exactly ``scheme://Host``;
    without one, a ``Sec-Fetch-Site`` must be ``same-origin`` or ``none`` (typed in, a
    bookmark), never ``same-site`` (another port of the same host) or ``cross-site``.
    A request saying neither (curl, an old browser) counts as first-party: the cookie
    is ``SameSite=Strict``, and only a browser holds it."""
    origin = found.get(b"origin")
    if origin is not None:
        return _same_origin(origin, found.get(b"host"), scheme)
    site = found.get(b"sec-fetch-site")
    return site is None or site.strip().lower() in (b"same-origin", b"none")


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


def _same_origin(origin: bytes, host: bytes | None, scheme: str | None = None) -> bool:
    """Whether ``origin`` names the host and port the request was sent to (with
    ``scheme``, or either of http and https when None): the server's own page.  With a
    password this lets nothing in without it; on a loopback bind the Host check has
    already held."""
    if host is None:
        return False
    try:
        parts = urlsplit(origin.decode("latin-1").rstrip("/"))
    except ValueError:
        return False
    given = host.decode("latin-1").strip().lower()
    schemes = ("http", "https") if scheme is None else (scheme,)
    return parts.scheme in schemes and parts.netloc.lower() == given and bool(given)


def _loopback_host(host: bytes) -> bool:
    text = host.decode("latin-1").strip().lower()
    name = text.rpartition("]")[0] + "]" if text.startswith("[") else text.partition(":")[0]
    return name in ("localhost", "127.0.0.1", "[::1]")


def _preflight(origin: bytes, asked_headers: bytes | None) -> GateAnswer:
    """The answer to a CORS preflight from an allowed origin (204, no body; no
    credentials allowed)."""
    headers = (
        *cors_headers(origin),
        (b"access-control-allow-methods", _ALLOW_METHODS),
        (b"access-control-allow-headers", asked_headers or _ALLOW_HEADERS),
        (b"access-control-max-age", b"600"),
    )
    return GateAnswer(204, "", "", headers)


def cors_headers(origin: bytes) -> tuple[tuple[bytes, bytes], ...]:
    """The headers of an answer to an allowed origin: its scripts may also read where a
    list's next page starts (``_pages``).  No ``Access-Control-Allow-Credentials``: a
    script of another origin never reads an answer the browser's cookie bought."""
    return (
        (b"access-control-allow-origin", origin),
        (b"access-control-expose-headers", b"Link, x-next-cursor"),
        (b"vary", b"Origin"),
    )

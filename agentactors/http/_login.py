"""Browser logins: the inbox page's session cookie, its CSRF token, and the brake on
password guessing.

A login (``POST /inbox/login`` with the password) opens a :class:`Login`: a random token
kept in an ``HttpOnly; SameSite=Strict`` cookie (``Secure`` over TLS), and a random
CSRF token the page sends back in the ``x-csrf-token`` header of every state-changing
request.  The gate (``_auth.verdict``) accepts the cookie where it accepts a password,
on first-party requests only (``_auth.first_party``), and refuses a cookie-authenticated
POST, PATCH or DELETE whose CSRF token is missing or wrong (compared in constant time).
Logins live in memory: a restart, a logout or ``ttl`` seconds end them; at most
``limit`` are open (the oldest goes first).

:class:`Attempts` slows guessing, at the login form and in ``Authorization`` headers
alike: after ``burst`` wrong passwords from one address within ``window`` seconds,
further tries from it are refused until the window has passed.  At most ``addresses``
addresses are tracked (the least recently failed goes first).  Trio thread only; never
blocks.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable

import attrs

COOKIE = "agentactors_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@attrs.frozen
class Login:
    """One browser's login: the CSRF token its page holds, and when it ends
    (``time.monotonic``)."""

    csrf: str
    expires: float

    def csrf_matches(self, given: bytes | None) -> bool:
        """Whether ``given`` is this login's CSRF token (constant time)."""
        return given is not None and hmac.compare_digest(given.strip(), self.csrf.encode())


def _key(token: str) -> bytes:
    # Logins are found by a digest of the token: the dict lookup's timing says nothing
    # about the token itself.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class Logins:
    """The open logins, by a digest of their cookie token."""

    def __init__(
        self,
        *,
        ttl: float = 7 * 86_400,
        limit: int = 1_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.limit = limit
        self._clock = clock
        self._open: OrderedDict[bytes, Login] = OrderedDict()

    def __len__(self) -> int:
        return len(self._open)

    def open(self) -> tuple[str, Login]:
        """A new login: ``(cookie token, login)``."""
        token = secrets.token_urlsafe(32)
        login = Login(secrets.token_urlsafe(32), self._clock() + self.ttl)
        self._open[_key(token)] = login
        while len(self._open) > self.limit:
            self._open.popitem(last=False)
        return token, login

    def find(self, token: str | None) -> Login | None:
        """The live login of this cookie token, or None."""
        if not token:
            return None
        key = _key(token)
        login = self._open.get(key)
        if login is not None and login.expires <= self._clock():
            del self._open[key]
            return None
        return login

    def close(self, token: str | None) -> None:
        """End the login of this token (nothing if there is none)."""
        if token:
            self._open.pop(_key(token), None)


def cookie_token(header: bytes | None) -> str | None:
    """The login token in a ``Cookie`` header, or None."""
    if header is None:
        return None
    for part in header.decode("latin-1").split(";"):
        name, equals, value = part.strip().partition("=")
        if equals and name == COOKIE:
            return value.strip('"') or None
    return None


class Attempts:
    """Wrong passwords per client address, within a sliding window."""

    def __init__(
        self,
        *,
        burst: int = 5,
        window: float = 60.0,
        addresses: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.window = window
        self.addresses = addresses
        self._clock = clock
        self._failed: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, address: str) -> float:
        """Seconds before ``address`` may try again (0: now)."""
        times = self._recent(address)
        if times is None or len(times) < self.burst:
            return 0.0
        return max(0.0, times[0] + self.window - self._clock())

    def reserve(self, address: str) -> float:
        """Seconds before ``address`` may try again; when 0, this try is counted now as a
        wrong password (:meth:`succeeded` forgets it), so tries still being checked, the
        form's body not read yet, count against the burst too."""
        wait = self.wait(address)
        if wait == 0:
            self.failed(address)
        return wait

    def failed(self, address: str) -> None:
        """Count a wrong password from ``address``."""
        times = self._recent(address)
        if times is None:
            times = self._failed[address] = deque(maxlen=self.burst)
        times.append(self._clock())
        self._failed.move_to_end(address)
        while len(self._failed) > self.addresses:
            self._failed.popitem(last=False)

    def succeeded(self, address: str) -> None:
        """Forget the wrong passwords of ``address``."""
        self._failed.pop(address, None)

    def _recent(self, address: str) -> deque[float] | None:
        times = self._failed.get(address)
        if times is None:
            return None
        horizon = self._clock() - self.window
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._failed[address]
            return None
        return times

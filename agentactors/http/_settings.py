"""What the HTTP server is told at start: bind, directory, password, CORS, limits."""

from __future__ import annotations

import ipaddress
import os
import ssl

import attrs

PASSWORD_ENV = "AGENTACTORS_SERVER_PASSWORD"
USERNAME = "agentactors"
MAX_BODY = 1 << 20  # bytes: a larger request body is a 413
MAX_HEAD = 16 << 10  # bytes: a larger request head is a 431


class StartRefused(Exception):
    """The settings are unsafe or impossible; the message says why and what to do."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address or name) only reaches this machine."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_tls(certfile: str, keyfile: str) -> None:
    """Raise :class:`StartRefused` unless the pair loads (a key that needs a password
    is refused rather than asked for on the terminal)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(certfile, keyfile, password=lambda: b"")
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise StartRefused(
            f"TLS: cannot use --certfile {certfile} with --keyfile {keyfile}: {exc}"
        ) from None


def _absolute(path: str) -> str:
    return os.path.abspath(path)


@attrs.frozen
class Settings:
    """The server's settings.  Immutable; :meth:`check` says whether it may start."""

    host: str = "127.0.0.1"
    port: int = 4096
    directory: str = attrs.field(factory=os.getcwd, converter=_absolute)
    password: str | None = None
    cors: tuple[str, ...] = ()
    data_dir: str | None = None
    max_body: int = MAX_BODY
    max_head: int = MAX_HEAD
    keep_alive: float = 5.0  # seconds an idle kept-alive connection stays open
    certfile: str | None = None  # TLS (and with it HTTP/2): the certificate chain (PEM)
    keyfile: str | None = None  # and its private key (PEM)
    cpu: int | None = None  # pin the process to this CPU (None: the scheduler decides)
    graceful_timeout: float = 5.0  # seconds the server waits for open requests at shutdown
    repl: bool = False
    cluster: str | None = None  # a Ray cluster's address (or auto): share the services

    @classmethod
    def from_env(cls, **values: object) -> Settings:
        """Settings with the password from ``AGENTACTORS_SERVER_PASSWORD`` (if set)."""
        password = os.environ.get(PASSWORD_ENV) or None
        return cls(password=password, **values)  # type: ignore[arg-type] # attrs checks

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def check(self) -> None:
        """Raise :class:`StartRefused` if these settings must not start a server."""
        if not self.loopback and not self.password:
            raise StartRefused(
                f"refusing to listen on {self.host}, which is reachable from other "
                f"machines, without a password: set {PASSWORD_ENV}, or bind 127.0.0.1"
            )
        if bool(self.certfile) != bool(self.keyfile):
            raise StartRefused("TLS needs both --certfile and --keyfile")
        for path in filter(None, (self.certfile, self.keyfile)):
            if not os.path.isfile(path):
                raise StartRefused(f"TLS: {path} is not a file")
        if self.certfile and self.keyfile:
            _check_tls(self.certfile, self.keyfile)
        if not os.path.isdir(self.directory):
            raise StartRefused(f"--directory {self.directory}: not a directory")
        if not 0 <= self.port <= 65535:
            raise StartRefused(f"port {self.port} is not in 0..65535")
        if self.cpu is not None:
            if not hasattr(os, "sched_setaffinity"):
                raise StartRefused("--cpu: this system cannot pin a process to a CPU")
            allowed = sorted(os.sched_getaffinity(0))
            if self.cpu not in allowed:
                raise StartRefused(f"--cpu {self.cpu}: this process may use CPUs {allowed}")

    def pin(self) -> None:
        """Pin the calling thread, and so every thread it starts after, to ``cpu`` (if
        set).  The server is one core's worth of Python (one GIL); on one CPU its
        threads hand work to each other without cross-core wake-ups and cache misses,
        which makes a lone request faster, but under load the kernel and the actors'
        GIL-free moments lose the other cores (design/performance.md has both).  Call
        before starting the services."""
        if self.cpu is not None:
            os.sched_setaffinity(0, {self.cpu})

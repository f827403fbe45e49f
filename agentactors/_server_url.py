"""The server's address as ``--url`` gives it to ``hook`` and ``install``: checked once,
the same way, so a URL one accepts the other does too.  Standard library only (the hook
command loads it for every tool call)."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

PASSWORD_ENV = "AGENTACTORS_SERVER_PASSWORD"
_NEVER = '"\\<>`{}|^'  # characters a URL never holds unescaped


def server_url(url: str) -> SplitResult:
    """``url`` split, if it can name our server: http or https, a host, a valid port, no
    credentials, query, fragment or whitespace.  Raises ValueError saying what is
    wrong (``--url URL: ...``)."""
    if not url or any(c.isspace() or not c.isprintable() or c in _NEVER for c in url):
        raise ValueError(
            f"--url {url!r}: not an http(s) URL (it is empty, or has spaces or one of {_NEVER})"
        )
    try:
        where = urlsplit(url)
        port = where.port  # raises for a port that is not a number below 65536
        host = where.hostname
    except ValueError as exc:
        raise ValueError(f"--url {url!r}: not an http(s) URL ({exc})") from None
    if where.scheme not in ("http", "https") or not host:
        raise ValueError(f"--url {url!r}: not an http(s) URL (http://HOST[:PORT][/PATH])")
    if port == 0:
        raise ValueError(f"--url {url!r}: port 0 is no server's port")
    if "@" in where.netloc:
        raise ValueError(f"--url {url!r}: no credentials in the URL (the password is "
                         f"${PASSWORD_ENV})")  # fmt: skip
    if where.query or where.fragment or url.endswith(("?", "#")):
        raise ValueError(f"--url {url!r}: no query or fragment (the hook path is added to it)")
    return where

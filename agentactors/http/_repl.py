"""The debug console: a Python console inside the server's process, over loopback TCP.

``serve --repl`` starts a :class:`ConsoleServer` on 127.0.0.1 (an ephemeral port, shown
by ``GET /debug/console``).  Each connection gets a ``code.InteractiveConsole`` in its
own thread with ``registry``, ``snapshot``, ``lookup``, ``call`` and ``client`` in scope;
``client`` runs every ``agentactors.actors.api`` function synchronously in the server's
trio loop (``client.list_pending()``, ``client.reply(id, "once")``).  When a password is
set the console asks for it first (constant-time compare).

:func:`attach` is ``python -m agentactors repl --url URL``: it asks the server where its
console is and connects a terminal to it.
"""

from __future__ import annotations

import code
import getpass
import hmac
import io
import os
import socket
import sys
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TextIO

import trio

from agentactors.actors import api
from agentactors.actors.runtime import call, lookup, registry, snapshot

from ._settings import PASSWORD_ENV, USERNAME

PROMPT_PASSWORD = "password: "
BANNER = "agentactors debug console: registry, snapshot(), lookup, call, client.<api function>"


class ConsoleClient:
    """``agentactors.actors.api``, blocking: each call runs in the server's trio loop.

    Call it from a console thread, never from the trio thread (that would deadlock).
    """

    def __init__(self, token: trio.lowlevel.TrioToken) -> None:
        self._token = token

    def __getattr__(self, name: str) -> Callable[..., Any]:
        function = getattr(api, name)

        def blocking(*args: Any, **kwargs: Any) -> Any:
            return trio.from_thread.run(partial(function, *args, **kwargs), trio_token=self._token)

        return blocking

    def __dir__(self) -> list[str]:
        return [name for name in dir(api) if not name.startswith("_")]


class _ThreadStdout(io.TextIOBase):
    """``sys.stdout`` that writes to a console's connection in that console's thread."""

    def __init__(self, fallback: TextIO) -> None:
        self.fallback = fallback
        self.local = threading.local()

    def write(self, text: str) -> int:
        target: TextIO = getattr(self.local, "target", None) or self.fallback
        return target.write(text)

    def flush(self) -> None:
        target: TextIO = getattr(self.local, "target", None) or self.fallback
        target.flush()


class _Console(code.InteractiveConsole):
    """A console reading lines from ``reader`` and writing to ``writer`` (one connection;
    two file objects, as a read-write text wrapper drops read-ahead on every write)."""

    def __init__(
        self, namespace: dict[str, Any], reader: TextIO, writer: TextIO, stdout: _ThreadStdout
    ) -> None:
        super().__init__(namespace)
        self.reader = reader
        self.writer = writer
        self.stdout = stdout

    def raw_input(self, prompt: str = "") -> str:
        self.write(prompt)
        line = self.reader.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")

    def write(self, data: str) -> None:
        self.writer.write(data)
        self.writer.flush()

    def runcode(self, code_object: Any) -> None:
        self.stdout.local.target = self.writer
        try:
            super().runcode(code_object)
        finally:
            self.stdout.local.target = None
            self.writer.flush()


class ConsoleServer:
    """The loopback console server: an accept thread and one thread per connection."""

    def __init__(self, *, password: str | None, port: int = 0) -> None:
        self.password = password
        self._port = port
        self._listener: socket.socket | None = None
        self._stdout: _ThreadStdout | None = None
        self._namespace: dict[str, Any] = {}

    @property
    def address(self) -> tuple[str, int]:
        assert self._listener is not None, "start() first"
        host, port = self._listener.getsockname()[:2]
        return host, port

    def start(self, token: trio.lowlevel.TrioToken) -> None:
        """Listen on 127.0.0.1 and serve consoles in daemon threads.  Never blocks.
        Raises OSError if the port cannot be bound."""
        self._namespace = {
            "registry": registry,
            "snapshot": snapshot,
            "lookup": lookup,
            "call": call,
            "client": ConsoleClient(token),
        }
        listener = socket.create_server(("127.0.0.1", self._port))
        self._listener = listener
        if not isinstance(sys.stdout, _ThreadStdout):
            self._stdout = sys.stdout = _ThreadStdout(sys.stdout)
        threading.Thread(target=self._accept, name="console-accept", daemon=True).start()

    def interact_here(self) -> None:
        """Also run a console on this process's terminal, in a daemon thread."""
        console = code.InteractiveConsole(dict(self._namespace))
        threading.Thread(
            target=console.interact, kwargs={"banner": BANNER, "exitmsg": ""}, daemon=True
        ).start()

    def close(self) -> None:
        """Stop accepting (open consoles end with the process).  Never blocks."""
        if self._listener is not None:
            self._listener.close()
        if self._stdout is not None and sys.stdout is self._stdout:
            sys.stdout = self._stdout.fallback
        self._stdout = None

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(
                target=self._session, args=(connection,), name="console", daemon=True
            ).start()

    def _session(self, connection: socket.socket) -> None:
        try:
            with (
                connection,
                connection.makefile("r", encoding="utf-8", newline="") as reader,
                connection.makefile("w", encoding="utf-8", newline="") as writer,
            ):
                self._converse(reader, writer)
        except (OSError, ValueError):
            pass  # the client went away

    def _converse(self, reader: TextIO, writer: TextIO) -> None:
        if self.password is not None:
            writer.write(PROMPT_PASSWORD)
            writer.flush()
            given = reader.readline().rstrip("\r\n")
            if not hmac.compare_digest(given.encode(), self.password.encode()):
                writer.write("wrong password\n")
                return
        stdout = self._stdout or _ThreadStdout(sys.stdout)
        console = _Console(dict(self._namespace), reader, writer, stdout)
        console.interact(banner=BANNER, exitmsg="bye")


def attach(url: str, *, password: str | None = None) -> int:
    """``repl --url``: connect this terminal to a running server's console.  Blocks
    until the console ends; returns the exit status."""
    import httpx  # noqa: PLC0415 - only the attaching client needs it; serve starts faster

    password = password or os.environ.get(PASSWORD_ENV) or None
    auth = (USERNAME, password) if password else None
    try:
        answer = httpx.get(f"{url.rstrip('/')}/debug/console", auth=auth, timeout=5.0)
    except httpx.HTTPError as exc:
        print(f"cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    if answer.status_code != 200:
        print(f"{url}: {answer.json().get('message', answer.text)}", file=sys.stderr)
        return 1
    where = answer.json()
    with socket.create_connection((where["host"], int(where["port"])), timeout=5.0) as connection:
        connection.settimeout(None)
        head = connection.recv(len(PROMPT_PASSWORD), socket.MSG_PEEK)
        if head == PROMPT_PASSWORD.encode():
            connection.recv(len(PROMPT_PASSWORD))
            secret = password or getpass.getpass(PROMPT_PASSWORD)
            connection.sendall(secret.encode() + b"\n")
        reader = threading.Thread(target=_copy_out, args=(connection,), daemon=True)
        reader.start()
        for line in sys.stdin:
            connection.sendall(line.encode())
        connection.shutdown(socket.SHUT_WR)
        reader.join(timeout=5.0)
    return 0


def _copy_out(connection: socket.socket) -> None:
    while data := connection.recv(4096):
        sys.stdout.write(data.decode("utf-8", errors="replace"))
        sys.stdout.flush()

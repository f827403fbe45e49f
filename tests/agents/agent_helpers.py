"""Running real agents (npm packages under tests/agents/) in the end-to-end tests.

The agents are installed by ``make test-agents`` (``npm ci`` here), which also sets
``AGENTACTORS_TEST_AGENTS=1``; without it these tests are skipped, so ``make test``
stays fast and needs no Node.js.
"""

from __future__ import annotations

import base64
import fcntl
import os
import re
import socket
import struct
import subprocess
import sys
import termios
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import trio

from ..http_helpers import Stream

AGENTS_DIR = Path(__file__).parent
BIN = AGENTS_DIR / "node_modules" / ".bin"

needs_agents = pytest.mark.skipif(
    os.environ.get("AGENTACTORS_TEST_AGENTS") != "1",
    reason="real agents run in `make test-agents` (AGENTACTORS_TEST_AGENTS=1)",
)


def agent_binary(name: str) -> str:
    """An installed agent's command; fails (not skips) when make test-agents asked for it."""
    path = BIN / name
    assert path.exists(), f"{path} is missing: run `make test-agents` (npm in {AGENTS_DIR})"
    return str(path)


def basic(user: str, password: str) -> str:
    """An HTTP Basic ``Authorization`` value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def free_port() -> int:
    """A loopback port free right now (for agents that read ``--port 0`` as a default)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


AGENT_SETTINGS = ("OPENCODE_", "AGENTACTORS_", "ANTHROPIC_", "OPENAI_", "CODEX_", "XDG_")
"""Environment variables an agent (or our server) reads settings from: never inherited."""


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of an agent: its own home and XDG directories, no user config."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("OPENCODE_", "AGENTACTORS_", "ANTHROPIC_", "OPENAI_", "CODEX_", "XDG_")
        )
    }
    env |= {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
    }
    return env | extra


class Output:
    """A process's merged output, read line by line as it comes; a test waits for a line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._changed = trio.Event()

    async def read(self, stream: trio.abc.ReceiveStream) -> None:
        buffer = b""
        async for chunk in stream:
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            self.lines.extend(line.decode(errors="replace") for line in complete)
            self._changed.set()
            self._changed = trio.Event()

    def mark(self) -> int:
        """Where the output is now (for :meth:`wait_for`'s ``since``)."""
        return len(self.lines)

    async def wait_for(self, text: str, timeout: float, since: int = 0) -> str:
        """The first line from line ``since`` on containing ``text`` (seen already or
        coming within ``timeout``)."""
        with trio.fail_after(timeout):
            seen = since
            while True:
                for line in self.lines[seen:]:
                    if text in line:
                        return line
                seen = len(self.lines)
                await self._changed.wait()

    def tail(self, count: int = 40) -> str:
        return "\n".join(self.lines[-count:])


@asynccontextmanager
async def running(
    command: Sequence[str | Path], *, cwd: Path, env: dict[str, str]
) -> AsyncIterator[tuple[trio.Process, Output]]:
    """A process with its output collected; killed if still alive at the end."""
    output = Output()
    async with trio.open_nursery() as nursery:
        process = await trio.lowlevel.open_process(
            [str(part) for part in command],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert process.stdout is not None
        nursery.start_soon(output.read, process.stdout)
        try:
            yield process, output
        finally:
            if process.returncode is None:
                process.kill()
            with trio.move_on_after(10):
                await process.wait()


@attrs.frozen
class Server:
    """A server at a URL (for ``open_stream``)."""

    url: str


async def agentactors_cli(cwd: Path, env: dict[str, str], *args: str) -> str:
    """``python -m agentactors ARGS`` (asserting exit 0); its output."""
    command = [sys.executable, "-m", "agentactors", *args]
    with trio.fail_after(60):
        result = await trio.run_process(
            command, cwd=cwd, env=env, capture_stdout=True, capture_stderr=True, check=False
        )
    output = (result.stdout + result.stderr).decode(errors="replace")
    assert result.returncode == 0, output
    return output


async def one_turn(
    agent: Sequence[str | Path], *, cwd: Path, env: dict[str, str], command: str,
    events: Stream, http: httpx.AsyncClient, answer: dict[str, Any], timeout: float = 120,
) -> Output:  # fmt: skip
    """Run ``agent`` (one headless turn asking to run ``command``); answer the ask that
    reaches our server (``events``: its event stream) with ``answer``; wait for the
    agent to exit 0.  Its output."""
    async with running(agent, cwd=cwd, env=env) as (process, output):
        try:
            with trio.fail_after(timeout):
                asked = (await events.next_of("permission.asked", timeout=timeout)).properties
                assert asked["permission"] == "bash", asked
                assert command in asked["patterns"], asked
                reply = await http.post(f"/permission/{asked['id']}/reply", json=answer)
                assert reply.status_code == 200, reply.text
                await process.wait()
        except BaseException:
            print(output.tail())
            raise
        assert process.returncode == 0, output.tail()
        return output


ESCAPES = re.compile(
    rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|P[^\x1b]*\x1b\\|.)"
)
"""Terminal control sequences (CSI, OSC, DCS, two-byte escapes): dropped from a screen."""


class Screen:
    """What a program under a pseudo-terminal wrote, as plain text (control sequences
    dropped); a test waits for a text to appear and types keys."""

    def __init__(self, master: int) -> None:
        self._stream = trio.lowlevel.FdStream(master)
        self.text = ""
        self._changed = trio.Event()

    async def read(self) -> None:
        raw = b""
        try:
            async for chunk in self._stream:
                raw += chunk
                self.text = ESCAPES.sub(b"", raw).decode(errors="replace")
                self._changed.set()
                self._changed = trio.Event()
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError):
            return  # EIO once the program is gone

    async def wait_for(self, text: str, timeout: float) -> None:
        with trio.fail_after(timeout):
            while text not in self.text:
                await self._changed.wait()

    async def type(self, keys: str) -> None:
        await self._stream.send_all(keys.encode())

    async def aclose(self) -> None:
        await self._stream.aclose()


@asynccontextmanager
async def terminal(
    command: Sequence[str | Path], *, cwd: Path, env: dict[str, str]
) -> AsyncIterator[Screen]:
    """A program in a 40x120 pseudo-terminal; killed if still alive at the end."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    try:
        process = await trio.lowlevel.open_process(
            [str(part) for part in command],
            cwd=cwd,
            env={**env, "TERM": "xterm-256color"},
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
    finally:
        os.close(slave)
    screen = Screen(master)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(screen.read)
        try:
            yield screen
        finally:
            if process.returncode is None:
                process.kill()
            with trio.move_on_after(10):
                await process.wait()
            await screen.aclose()

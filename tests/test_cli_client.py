"""``agentactors ask / list / reply`` against a real ``serve`` process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import trio

from .http_helpers import Live, open_stream, serve_process

CLI = [sys.executable, "-m", "agentactors"]


async def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return await trio.run_process(
        [*CLI, *args], capture_stdout=True, capture_stderr=True, check=False, cwd=cwd
    )


async def ask_and_reply(
    url: str, directory: Path, reply: str
) -> subprocess.CompletedProcess[bytes]:
    """Run ``ask`` in the background; once the server publishes the request, ``reply``."""
    outcome: list[subprocess.CompletedProcess[bytes]] = []
    server = cast(Live, SimpleNamespace(url=url))
    async with open_stream(server, "/global/event") as stream, trio.open_nursery() as nursery:

        async def asker() -> None:
            outcome.append(await run_cli("ask", "bash", "make deploy", "--url", url, cwd=directory))

        nursery.start_soon(asker)
        asked = await stream.next_of("permission.asked", timeout=30)
        request_id = asked.properties["id"]
        listed = await run_cli("list", "--url", url, cwd=directory)
        assert request_id in listed.stdout.decode()
        answer = await run_cli("reply", request_id, reply, "-m", "no way", "--url", url)
        assert answer.returncode == 0, answer.stderr
    return outcome[0]


async def test_ask_waits_for_a_reply_and_exits_by_the_outcome(tmp_path: Path) -> None:
    """ask blocks until replied: exit 0 for once, 1 for reject (printing why)."""
    async with serve_process(tmp_path, ":memory:") as (_process, url):
        allowed = await ask_and_reply(url, tmp_path, "once")
        assert allowed.returncode == 0, allowed.stderr
        assert "allowed" in allowed.stdout.decode()
        rejected = await ask_and_reply(url, tmp_path, "reject")
        assert rejected.returncode == 1, rejected.stderr
        assert "rejected" in rejected.stdout.decode()
        assert "no way" in rejected.stdout.decode()


async def test_bad_input_and_unreachable_server(tmp_path: Path) -> None:
    """Unknown ids and an unreachable server are errors (exit 2), not silent successes."""
    async with serve_process(tmp_path, ":memory:") as (_process, url):
        unknown = await run_cli("reply", "per_01M86R58X4AWWVH41M4N7A8CJA", "once", "--url", url)
        assert unknown.returncode == 2
        assert b"not found" in unknown.stderr
        nothing = await run_cli("ask", "bash", "--url", url)
        assert nothing.returncode == 2
    gone = await run_cli("list", "--url", "http://127.0.0.1:9")
    assert gone.returncode == 2
    assert b"cannot reach" in gone.stderr

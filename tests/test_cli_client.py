"""``agentactors ask / list / reply`` against a real ``serve`` process."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
import trio

from .http_helpers import Live, open_stream, read_line, serve_process

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
    assert f"waiting for {request_id}; answer with: " in outcome[0].stderr.decode()
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


@asynccontextmanager
async def open_ask(url: str, directory: Path, *args: str) -> AsyncIterator[trio.Process]:
    """An ``ask`` process, stdout and stderr piped; killed if still alive at the end."""
    command = [*CLI, "ask", "bash", *args, "--url", url]
    process = await trio.lowlevel.open_process(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=directory
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                await pipe.aclose()


async def finish(process: trio.Process, buffer: bytearray) -> tuple[int, list[str], str]:
    """Wait for ``process``: its status, its stderr lines (after those read into
    ``buffer``) and its stdout."""
    assert process.stderr is not None
    assert process.stdout is not None
    with trio.fail_after(30):
        status = await process.wait()
        while chunk := await process.stderr.receive_some():
            buffer += chunk
        stdout = bytearray()
        while chunk := await process.stdout.receive_some():
            stdout += chunk
    return status, bytes(buffer).decode().splitlines(), stdout.decode()


async def final_state(url: str, request_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url) as client:
        answer = await client.get(f"/permission/{request_id}")
        assert answer.status_code == 200, answer.text
        state: dict[str, Any] = answer.json()
        pending = (await client.get("/permission")).json()
    assert request_id not in [p["id"] for p in pending]
    return state


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
async def test_ask_prints_the_id_and_ctrl_c_withdraws_it(tmp_path: Path, signum: int) -> None:
    """While it waits, ask prints the id and the reply command (stderr); Ctrl-C (or a
    SIGTERM) then withdraws the request (rejected, decidedBy asker), prints one line and
    exits 130."""
    async with serve_process(tmp_path, ":memory:") as (_process, url):
        async with open_ask(url, tmp_path, "make deploy") as process:
            assert process.stderr is not None
            buffer = bytearray()
            with trio.fail_after(30):
                waiting = await read_line(process.stderr, buffer)
            request_id = waiting.split()[3].rstrip(";")
            assert waiting == (
                f"agentactors: waiting for {request_id}; answer with: "
                f"agentactors reply {request_id} once|always|reject --url {url}"
            )
            process.send_signal(signum)
            status, lines, stdout = await finish(process, buffer)
        assert (status, lines, stdout) == (130, [f"agentactors: withdrawn {request_id}"], "")
        final = await final_state(url, request_id)
    assert (final["state"], final["reply"]) == ("replied", "reject")
    assert final["decidedBy"]["kind"] == "asker"


HOLD_PLUGIN = '''
import socket

from agentactors.plugins import Plugin


class Hold(Plugin):
    """Holds every ask until the test's socket closes, then decides nothing."""

    def check_permission(self, request):
        with socket.create_connection(("127.0.0.1", self.options["port"])) as held:
            held.recv(1)
        return None
'''


async def test_ctrl_c_while_the_ask_is_in_flight_withdraws_it_once_answered(
    tmp_path: Path,
) -> None:
    """A Ctrl-C before the server answered the ask is held: once the request exists it is
    withdrawn (nothing is left pending), with one line and exit 130."""
    listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
    port = listener.socket.getsockname()[1]
    (tmp_path / "hold.py").write_text(HOLD_PLUGIN)
    config = tmp_path / "hold.toml"
    plugin = f'["{tmp_path / "hold.py"}:Hold", {{port = {port}}}]'
    config.write_text(f"plugins = [{plugin}]\n[policy]\ntimeout = 60\n")
    served = serve_process(tmp_path, ":memory:", "--config", str(config))
    async with listener, served as (_process, url):
        async with open_ask(url, tmp_path, "make deploy") as process:
            with trio.fail_after(30):
                held = await listener.accept()  # the ask is with the plugin: unanswered
            process.send_signal(signal.SIGINT)
            await held.aclose()
            status, lines, _ = await finish(process, bytearray())
        assert status == 130
        (line,) = lines
        assert line.startswith("agentactors: withdrawn per_"), line
        final = await final_state(url, line.split()[-1])
    assert final["decidedBy"]["kind"] == "asker"


async def test_an_ask_decided_at_once_prints_only_the_verdict(tmp_path: Path) -> None:
    """allow and deny by rule: no waiting line; exit 0 or 1 with the verdict."""
    config = tmp_path / "rules.toml"
    config.write_text('[permission.bash]\n"git status" = "allow"\n"rm *" = "deny"\n')
    async with serve_process(tmp_path, ":memory:", "--config", str(config)) as (_, url):
        allowed = await run_cli("ask", "bash", "git status", "--url", url, cwd=tmp_path)
        denied = await run_cli("ask", "bash", "rm -rf build", "--url", url, cwd=tmp_path)
    assert (allowed.returncode, allowed.stderr) == (0, b"")
    assert allowed.stdout.decode().startswith("allowed (replied, by rule")
    assert (denied.returncode, denied.stderr) == (1, b"")
    assert denied.stdout.decode().startswith("rejected (replied, by rule")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["ask", "bash", "x", "--timeout", "nan"], "must be a positive number of seconds"),
        (["ask", "bash", "x", "--timeout", "inf"], "must be a positive number of seconds"),
        (["ask", "bash", "x", "--url", "http://[::1"], "--url http://[::1: Invalid port"),
        (["list", "--url", "http://[::1"], "--url http://[::1: Invalid port"),
    ],
)
async def test_bad_arguments_are_one_line_and_exit_2(argv: list[str], expected: str) -> None:
    """A bad --timeout or --url is one line naming it, exit 2, no traceback."""
    with trio.fail_after(30):
        result = await trio.run_process(
            [sys.executable, "-m", "agentactors", *argv],
            capture_stdout=True, capture_stderr=True, check=False,
        )  # fmt: skip
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 2
    assert expected in lines[-1]
    assert not any("Traceback" in line for line in lines)

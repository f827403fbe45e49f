"""The command line and the process: refusals, a real ``serve`` process shut down by
SIGTERM, and the debug console (in-process and attached with ``repl --url``)."""

from __future__ import annotations

import os
import signal
import ssl
import sys
from pathlib import Path

import httpx
import pytest
import trio
import trustme

from agentactors.__main__ import main
from agentactors.actors._lifecycle import RunningServices
from agentactors.http import PASSWORD_ENV, ConsoleServer

from .http_helpers import serve_process

PYTHON = [sys.executable, "-m", "agentactors"]


def test_several_workers_are_refused_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    """--workers 2 exits 2 explaining that several processes mean several singletons."""
    assert main(["serve", "--workers", "2"]) == 2
    error = capsys.readouterr().err
    assert "--workers 2: refused" in error
    assert "one process" in error


def test_public_bind_without_password_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-loopback --host without AGENTACTORS_SERVER_PASSWORD exits 2 naming the fix."""
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert PASSWORD_ENV in capsys.readouterr().err


def test_an_unavailable_cpu_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """--cpu naming a CPU this process may not use exits 2 listing the ones it may."""
    assert main(["serve", "--cpu", "4096"]) == 2
    assert "--cpu 4096: this process may use CPUs" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
async def test_cpu_pins_every_thread_of_the_server(tmp_path: Path) -> None:
    """serve --cpu N: the server's threads (trio's and every actor's) run on CPU N only."""
    cpu = max(os.sched_getaffinity(0))
    async with serve_process(tmp_path, ":memory:", "--cpu", str(cpu)) as (process, _url):
        allowed = set()
        for task in Path(f"/proc/{process.pid}/task").iterdir():
            status = (task / "status").read_text()
            allowed.add(status.split("Cpus_allowed_list:")[1].split()[0])
            threads = int(status.split("Threads:")[1].split()[0])
        assert threads >= 4  # trio's and the actors'
        assert allowed == {str(cpu)}


def test_bad_config_is_refused_naming_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A config that does not parse exits 2 with the file named."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[permission]\nbash = 'sometimes'\n")
    assert main(["serve", "--config", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err


@pytest.mark.slow
async def test_sigterm_answers_the_parked_ask_503_and_exits_0(tmp_path: Path) -> None:
    """A real server process: a parked ?wait=true ask gets 503 on SIGTERM; exit 0."""
    served = serve_process(tmp_path, tmp_path / "data")
    async with served as (process, url), httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/global/health")).json()["healthy"] is True
        session = (await client.post("/session", json={})).json()
        answers: list[httpx.Response] = []

        async def park() -> None:
            body = {"permission": "bash", "patterns": ["make deploy"]}
            path = f"/session/{session['id']}/permission"
            answers.append(await client.post(path, params={"wait": "true"}, json=body))

        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(park)
                while not (await client.get("/permission")).json():
                    await trio.sleep(0.01)  # another process: poll its pending list
                process.send_signal(signal.SIGTERM)
            assert await process.wait() == 0
    assert answers[0].status_code == 503
    assert answers[0].json()["_tag"] == "ShuttingDownError"


@pytest.mark.slow
async def test_repl_attaches_to_the_servers_console(tmp_path: Path) -> None:
    """``repl --url`` runs code in the server's process (its registry), password-checked."""
    env = {**os.environ, PASSWORD_ENV: "pw"}
    served = serve_process(tmp_path, tmp_path / "data", "--repl", env={PASSWORD_ENV: "pw"})
    async with served as (_, url):
        code = b"print(sorted(row.name for row in snapshot()))\nclient.list_pending()\n"
        with trio.fail_after(20):
            result = await trio.run_process(
                [*PYTHON, "repl", "--url", url], stdin=code, capture_stdout=True, env=env
            )
    output = result.stdout.decode()
    assert "['bus', 'permission', 'plugins', 'store']" in output
    assert "[]" in output


async def _console_lines(port: int, send: bytes, until: bytes) -> str:
    async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
        await stream.send_all(send)
        received = b""
        with trio.fail_after(10):
            while until not in received:
                chunk = await stream.receive_some(4096)
                if not chunk:
                    break
                received += chunk
    return received.decode()


async def test_console_runs_code_against_the_registry(services: RunningServices) -> None:
    """The console evaluates code in this process: snapshot() and the blocking client."""
    console = ConsoleServer(password=None)
    console.start(trio.lowlevel.current_trio_token())
    try:
        host, port = console.address
        assert host == "127.0.0.1"
        text = await _console_lines(port, b"len(snapshot())\nclient.list_pending()\n", b"[]")
    finally:
        console.close()
    assert "2\n" in text  # bus, permission
    assert "[]" in text


async def test_console_asks_for_the_password(services: RunningServices) -> None:
    """With a password, a wrong one ends the session; the right one opens the console."""
    console = ConsoleServer(password="pw")
    console.start(trio.lowlevel.current_trio_token())
    try:
        _, port = console.address
        refused = await _console_lines(port, b"nope\n", b"wrong password")
        accepted = await _console_lines(port, b"pw\n6*7\n", b"42")
    finally:
        console.close()
    assert refused.startswith("password: ")
    assert "wrong password" in refused
    assert "42" in accepted


async def test_serve_with_tls_answers_https_and_http2(tmp_path: Path) -> None:
    """``serve --certfile --keyfile``: HTTPS, and HTTP/2 by ALPN, through a whole ask and
    reply; a plain-HTTP request to the TLS port gets no answer."""
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    for blob in issued.cert_chain_pems:
        blob.write_to_path(str(cert), append=True)
    issued.private_key_pem.write_to_path(str(key))
    verify = ssl.create_default_context()
    ca.configure_trust(verify)
    tls = ("--certfile", str(cert), "--keyfile", str(key))
    async with serve_process(tmp_path, ":memory:", *tls) as (_, url):
        assert url.startswith("https://")
        async with httpx.AsyncClient(base_url=url, verify=verify, http2=True) as client:
            with trio.fail_after(10):
                health = await client.get("/global/health")
                assert (health.http_version, health.status_code) == ("HTTP/2", 200)
                session = (await client.post("/session", json={})).json()
                body = {"permission": "bash", "patterns": ["make deploy"]}
                asked = await client.post(f"/session/{session['id']}/permission", json=body)
                reply = {"reply": "reject", "message": "not today"}
                answer = await client.post(f"/permission/{asked.json()['id']}/reply", json=reply)
                assert answer.json() is True
                final = (await client.get(f"/permission/{asked.json()['id']}")).json()
                assert (final["state"], final["message"]) == ("replied", "not today")
        plain = url.replace("https://", "http://")
        async with httpx.AsyncClient(base_url=plain) as client:
            with trio.fail_after(10), pytest.raises(httpx.HTTPError):
                await client.get("/global/health")


def test_tls_needs_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A certificate without its key (or a missing file) is refused at start, named."""
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    assert main(["serve", "--port", "0", "--certfile", str(cert)]) == 2
    assert "both --certfile and --keyfile" in capsys.readouterr().err
    missing = str(tmp_path / "nope.pem")
    assert main(["serve", "--port", "0", "--certfile", str(cert), "--keyfile", missing]) == 2
    assert "nope.pem" in capsys.readouterr().err


async def test_a_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A second ``serve`` on a taken port says so in one line and exits 2."""
    async with serve_process(tmp_path, ":memory:") as (_, url):
        port = url.rsplit(":", 1)[1]
        command = [*PYTHON, "serve", "--port", port, "--directory", str(tmp_path)]
        command += ["--data-dir", ":memory:"]
        with trio.fail_after(30):
            result = await trio.run_process(command, capture_stderr=True, check=False)
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert f"cannot listen on 127.0.0.1:{port}" in lines[0]
    assert "in use" in lines[0]


def _start_failures(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    """serve arguments that cannot start, each with what its one line must say."""
    bad_toml, bad_action = tmp_path / "bad.toml", tmp_path / "action.toml"
    bad_toml.write_text("[permission\n")
    bad_action.write_text("[permission]\nbash = 'sometimes'\n")
    a_file, cert = tmp_path / "a-file", tmp_path / "cert.pem"
    a_file.write_text("")
    cert.write_text("not a certificate\n")
    taken = tmp_path / "taken"
    (taken / "agentactors.db").mkdir(parents=True)
    tls = ["--certfile", str(cert), "--keyfile", str(cert)]
    return {
        "bad toml": (["--config", str(bad_toml)], f"{bad_toml}:1: not valid TOML"),
        "unknown action": (["--config", str(bad_action)], "unknown action 'sometimes'"),
        "data dir in /proc": (["--data-dir", "/proc/x"], "/proc/x: cannot use this data dir"),
        "data dir is a file": (["--data-dir", str(a_file)], "cannot use this data dir"),
        "database is a dir": (["--data-dir", str(taken)], "cannot open the database"),
        "bad certificate": (tls, f"TLS: cannot use --certfile {cert} with --keyfile {cert}"),
        "no such directory": (["--directory", str(tmp_path / "nope")], "not a directory"),
    }


async def _one_line_and_exit_2(tmp_path: Path, *args: str) -> str:
    command = [*PYTHON, "serve", "--port", "0", "--directory", str(tmp_path)]
    command += ["--data-dir", ":memory:", *args]  # a later --directory/--data-dir wins
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    with trio.fail_after(30):
        result = await trio.run_process(command, capture_stderr=True, check=False, env=env)
    lines = result.stderr.decode().splitlines()
    assert (result.returncode, len(lines)) == (2, 1), lines
    assert lines[0].startswith("agentactors: "), lines
    return lines[0]


@pytest.mark.parametrize(
    "failure",
    ["bad toml", "unknown action", "data dir in /proc", "data dir is a file",
     "database is a dir", "bad certificate", "no such directory"],
)  # fmt: skip
async def test_a_start_failure_is_one_line_naming_the_cause_and_exit_2(
    tmp_path: Path, failure: str
) -> None:
    """serve that cannot start says why in one stderr line (no traceback) and exits 2."""
    args, cause = _start_failures(tmp_path)[failure]
    assert cause in await _one_line_and_exit_2(tmp_path, *args)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
async def test_a_read_only_data_dir_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A data dir this user may not write fails the start in one line, exit 2."""
    read_only = tmp_path / "read-only"
    read_only.mkdir(mode=0o555)
    line = await _one_line_and_exit_2(tmp_path, "--data-dir", str(read_only))
    assert "Permission denied" in line or "readonly" in line


async def test_a_data_dir_in_use_by_a_running_server_is_one_line_and_exit_2(
    tmp_path: Path,
) -> None:
    """A second serve on the data dir of a running one is refused in one line, exit 2."""
    data = tmp_path / "data"
    async with serve_process(tmp_path, data):
        line = await _one_line_and_exit_2(tmp_path, "--data-dir", str(data))
    assert f"{data}: this data dir is in use by another agentactors process" in line

"""Several ``serve`` processes sharing one ``permission`` service on a real Ray cluster.

A local Ray head (``ray start --head --block`` on loopback, its own process group, one
CPU, a small object store, its own temp dir) runs for the module; two ``python -m
agentactors serve --cluster ADDRESS`` processes (A and B) join it, each with a policy-free
plugin that replies, through its in-process client, to asks carrying its marker.  The
tests drive A and B over HTTP.  The last test kills the Ray worker that hosts the shared
services, so it runs last.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import trio

from agentactors._cli_workers import child_argv
from agentactors.actors import stop_services
from agentactors.actors.bus import publish
from agentactors.cluster._host import ServicesHost
from agentactors.policy import Config
from benchmarks._ray_head import local_head

from .http_helpers import open_stream, serve_command, serve_process

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="Ray is not installed (pip install 'agentactors[ray]'; the dev extra has it)",
)

START = 120.0  # seconds a process may take to join the cluster on a busy machine

PLUGIN = """
from agentactors.plugins import Plugin


class _Releaser(Plugin):
    events = ["permission.asked"]
    marker = ""

    def on_event(self, event):
        if self.marker in event.properties["metadata"].get("command", ""):
            self.client.reply(event.properties["id"], "once")


class ReleaserA(_Releaser):
    name = "releaser-a"
    marker = "plugin-a"


class ReleaserB(_Releaser):
    name = "releaser-b"
    marker = "plugin-b"
"""


@attrs.frozen
class Served:
    process: subprocess.Popen[bytes]
    url: str
    host_pid: int  # the shared host's process when this one joined


@attrs.frozen
class Cluster:
    address: str
    a: Served
    b: Served
    root: Path


def _lines(process: subprocess.Popen[bytes], count: int, timeout: float) -> list[str]:
    """The first ``count`` lines ``process`` prints; fails after ``timeout`` seconds."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while buffer.count(b"\n") < count:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no start within {timeout} s: {buffer!r}"
            if selector.select(remaining):
                chunk = os.read(process.stdout.fileno(), 4096)
                assert chunk, f"exited ({process.wait()}): {buffer!r}"
                buffer += chunk
    return buffer.decode().splitlines()[:count]


def _serve(root: Path, address: str, plugin: str) -> Served:
    config = root / f"{plugin}.toml"
    config.write_text(f'plugins = ["{root / "releasers.py"}:{plugin}"]\n')
    extra = ("--cluster", address, "--config", str(config))
    command, environment = serve_command(root, root / "shared", *extra)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=environment)
    try:
        lines = _lines(process, 3, START)  # plugins, listening, state
    except BaseException:
        _stop(process)
        raise
    listening = next(line for line in lines if line.startswith("agentactors listening on "))
    state = next(line for line in lines if line.startswith("state in "))
    return Served(process, listening.split()[3], int(state.rstrip(")").split()[-1]))


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


@pytest.fixture(scope="module")
def ray_head() -> Iterator[str]:
    """A local Ray head on loopback (``benchmarks._ray_head``), for the module."""
    with local_head(START) as head:
        yield head.address


@pytest.fixture(scope="module")
def cluster(ray_head: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("cluster")
    (root / "releasers.py").write_text(PLUGIN)
    a = _serve(root, ray_head, "ReleaserA")
    try:
        b = _serve(root, ray_head, "ReleaserB")
        try:
            yield Cluster(ray_head, a, b, root)
        finally:
            _stop(b.process)
    finally:
        _stop(a.process)


async def _json(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _session(client: httpx.AsyncClient) -> str:
    session: str = (await _json(await client.post("/session", json={})))["id"]
    return session


def _ask_body(command: str, **body: Any) -> dict[str, Any]:
    return {"permission": "bash", "metadata": {"command": command}, **body}


async def _ask(client: httpx.AsyncClient, session: str, command: str, **body: Any) -> Any:
    response = await client.post(f"/session/{session}/permission", json=_ask_body(command, **body))
    return await _json(response)


async def _pending_ids(client: httpx.AsyncClient) -> set[str]:
    return {r["id"] for r in await _json(await client.get("/permission"))}


async def _until_pending(client: httpx.AsyncClient, session: str) -> str:
    """The id of the one pending request of ``session``, once the server lists it."""
    while True:
        pending = await _json(await client.get("/permission", params={"sessionID": session}))
        if pending:
            request_id: str = pending[0]["id"]
            return request_id
        await trio.sleep(0.05)  # poll; the caller's fail_after bounds it


def _clients(cluster: Cluster) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    return (
        httpx.AsyncClient(base_url=cluster.a.url, timeout=60),
        httpx.AsyncClient(base_url=cluster.b.url, timeout=60),
    )


def test_ray_is_not_imported_without_a_cluster(tmp_path: Path) -> None:
    """The CLI, the HTTP app and the services start without loading Ray."""
    script = (
        "import sys\n"
        "import agentactors.__main__\n"
        "from agentactors.actors import start_services, stop_services\n"
        "from agentactors.http import HttpServer, Settings\n"
        "from agentactors.policy import Config\n"
        "start_services(Config(), data_dir=sys.argv[1])\n"
        "HttpServer(Settings(directory=sys.argv[1]), Config())\n"
        "stop_services()\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, check=True
    )
    assert done.stdout.decode().strip() == "[]"


@needs_ray
async def test_an_ask_held_on_a_is_released_by_a_reply_posted_to_b(cluster: Cluster) -> None:
    a, b = _clients(cluster)
    async with a, b:
        session = await _session(a)
        released: list[Any] = []

        async def ask_and_wait() -> None:
            response = await a.post(
                f"/session/{session}/permission",
                params={"wait": "true"},
                json=_ask_body("rm -rf build"),
            )
            released.append(await _json(response))

        with trio.fail_after(60):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(ask_and_wait)
                request_id = await _until_pending(b, session)
                answer = await b.post(f"/permission/{request_id}/reply", json={"reply": "once"})
                assert await _json(answer) is True
        (final,) = released
        assert (final["id"], final["state"], final["reply"]) == (request_id, "replied", "once")


@needs_ray
async def test_both_processes_list_the_same_pending_requests(cluster: Cluster) -> None:
    a, b = _clients(cluster)
    async with a, b:
        with trio.fail_after(60):
            session = await _session(b)
            asked = {(await _ask(a, session, f"make target{i}"))["id"] for i in range(3)}
            asked |= {(await _ask(b, session, f"make other{i}"))["id"] for i in range(2)}
            on_a, on_b = await _pending_ids(a), await _pending_ids(b)
            assert on_a == on_b
            assert asked <= on_a
            listed = await _json(await a.get("/permission", params={"sessionID": session}))
            assert [r["id"] for r in listed] == [
                r["id"] for r in await _json(await b.get(f"/permission?sessionID={session}"))
            ]
            await _json(await a.post(f"/session/{session}/abort"))
            assert asked.isdisjoint(await _pending_ids(b))


@needs_ray
async def test_an_always_saved_on_a_applies_on_b(cluster: Cluster) -> None:
    a, b = _clients(cluster)
    async with a, b:
        with trio.fail_after(60):
            session = await _session(a)
            push = await _ask(a, session, "git push origin", always=["git push *"])
            answer = await a.post(f"/permission/{push['id']}/reply", json={"reply": "always"})
            assert await _json(answer) is True
            again = await _ask(b, session, "git push origin main")
        assert (again["effect"], again["decidedBy"]["kind"]) == ("allow", "approval")


@needs_ray
async def test_the_plugin_client_of_either_process_reaches_the_one_permission_actor(
    cluster: Cluster,
) -> None:
    """Each process's plugin replies to asks made on the other: the event reaches it
    through its process's pump, its client's reply reaches the shared service."""
    a, b = _clients(cluster)
    async with a, b:
        with trio.fail_after(60):
            session = await _session(a)
            on_a = await a.post(
                f"/session/{session}/permission",
                params={"wait": "true"},
                json=_ask_body("echo plugin-b"),
            )
            on_b = await b.post(
                f"/session/{session}/permission",
                params={"wait": "true"},
                json=_ask_body("echo plugin-a"),
            )
        released_by_b, released_by_a = await _json(on_a), await _json(on_b)
    assert released_by_b["decidedBy"] == {"kind": "plugin", "name": "releaser-b"}
    assert released_by_a["decidedBy"] == {"kind": "plugin", "name": "releaser-a"}
    assert {released_by_a["state"], released_by_b["state"]} == {"replied"}


@needs_ray
async def test_an_event_stream_on_b_sees_an_ask_made_on_a(cluster: Cluster) -> None:
    a, b = _clients(cluster)
    async with a, b, open_stream(cluster.b.url) as stream:
        with trio.fail_after(60):
            session = await _session(a)
            asked = await _ask(a, session, "cargo publish")
            message = await stream.next_of("permission.asked", timeout=60)
            while message.properties["id"] != asked["id"]:
                message = await stream.next_of("permission.asked", timeout=60)
            await a.post(f"/permission/{asked['id']}/reply", json={"reply": "reject"})
            replied = await stream.next_of("permission.replied", timeout=60)
            while replied.properties["requestID"] != asked["id"]:
                replied = await stream.next_of("permission.replied", timeout=60)
        assert replied.properties["reply"] == "reject"


@needs_ray
async def test_killing_one_serve_process_loses_nothing_and_the_others_serve(
    cluster: Cluster,
) -> None:
    a, b = _clients(cluster)
    third = serve_process(
        cluster.root, cluster.root / "shared", "--cluster", cluster.address, start_timeout=START
    )
    async with a, b, third as (process, url):
        async with httpx.AsyncClient(base_url=url, timeout=60) as c:
            with trio.fail_after(60):
                session = await _session(c)
                asked = await _ask(c, session, "terraform apply")
        process.kill()
        with trio.fail_after(60):
            await process.wait()
            assert asked["id"] in await _pending_ids(a)
            answer = await b.post(f"/permission/{asked['id']}/reply", json={"reply": "once"})
            assert await _json(answer) is True
            final = await _json(await a.get(f"/permission/{asked['id']}"))
    assert (final["state"], final["reply"]) == ("replied", "once")


@needs_ray
@pytest.mark.slow
async def test_the_shared_host_killed_restarts_from_its_store_and_waits_reattach(
    cluster: Cluster,
) -> None:
    """SIGKILL to the Ray worker hosting the shared services: Ray restarts it, it loads
    the state from SQLite, a wait parked on A before the kill is released by a reply
    posted to B after it, and a saved approval still applies."""
    a, b = _clients(cluster)
    async with a, b:
        released: list[Any] = []
        with trio.fail_after(60):
            session = await _session(a)
            deploy = await _ask(a, session, "kubectl apply -f x", always=["kubectl apply *"])
            await _json(await a.post(f"/permission/{deploy['id']}/reply", json={"reply": "always"}))

        async def ask_and_wait() -> None:
            response = await a.post(
                f"/session/{session}/permission",
                params={"wait": "true"},
                json=_ask_body("rm -rf dist"),
            )
            released.append(await _json(response))

        with trio.fail_after(180):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(ask_and_wait)
                request_id = await _until_pending(b, session)
                os.kill(cluster.a.host_pid, signal.SIGKILL)
                while True:  # the host restarts: 503 until it answers again
                    answer = await b.post(f"/permission/{request_id}/reply", json={"reply": "once"})
                    if answer.status_code == 200:
                        break
                    assert answer.status_code in (503, 504), answer.text
                    await trio.sleep(0.1)  # poll; bounded by fail_after
            again = await _ask(b, session, "kubectl apply -f y")
        (final,) = released
        assert (final["id"], final["state"], final["reply"]) == (request_id, "replied", "once")
        assert (again["effect"], again["decidedBy"]["kind"]) == ("allow", "approval")


def test_workers_children_keep_every_option_but_workers_and_port() -> None:
    argv = ["serve", "--workers", "3", "--cluster", "auto", "--port=4096", "--repl"]
    assert child_argv(argv, 4097) == ["serve", "--cluster", "auto", "--repl", "--port", "4097"]


@needs_ray
def test_several_workers_join_the_cluster_with_one_port_each(ray_head: str, tmp_path: Path) -> None:
    """``--workers 2 --cluster``: two serve children, each listening; SIGTERM to the
    parent stops both (exit 0)."""
    extra = ("--cluster", ray_head, "--workers", "2")
    command, environment = serve_command(tmp_path, tmp_path / "shared", *extra)
    parent = subprocess.Popen(command, stdout=subprocess.PIPE, env=environment)
    try:
        lines = _lines(parent, 4, START)
        urls = {line.split()[3] for line in lines if line.startswith("agentactors listening")}
        assert len(urls) == 2, lines
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(60) == 0
    finally:
        _stop(parent)


def test_the_host_numbers_its_events_and_tells_a_pump_what_it_missed(tmp_path: Path) -> None:
    """``ServicesHost.events_after`` (the host's own code, run here without Ray): a pump
    starts at the current position, gets what came after it, is told how many events
    left the ring before it asked, and a pump of another incarnation cannot know."""
    host = ServicesHost(Config(read_project_files=False, bus_history=4), str(tmp_path))

    async def scenario() -> None:
        start = await host.events_after(None, None, 10, 0)
        assert start.events == ()
        for index in range(6):
            publish("test.tick", {"index": index})
        deadline = time.monotonic() + 30
        batch = await host.events_after(start.incarnation, start.last, 10, 1)
        while batch.last < start.last + 6:  # the bus delivers in its own thread
            assert time.monotonic() < deadline, batch
            batch = await host.events_after(start.incarnation, start.last, 10, 1)
        assert batch.dropped == 2
        assert [e.properties["index"] for e in batch.events] == [2, 3, 4, 5]
        caught_up = await host.events_after(start.incarnation, batch.last, 10, 0)
        assert (caught_up.events, caught_up.dropped, caught_up.last) == ((), 0, batch.last)
        stranger = await host.events_after("inc_other", batch.last, 2, 0)
        assert stranger.dropped is None
        assert [e.properties["index"] for e in stranger.events] == [2, 3]
        assert stranger.last == start.last + 4

    try:
        asyncio.run(scenario())
    finally:
        stop_services()

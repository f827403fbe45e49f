"""``agentactors watch`` driven by Textual's pilot against a real ``serve`` process.

Textual runs on asyncio: each test is a plain function that runs its scenario with
``asyncio.run`` (pytest-trio leaves sync tests alone).  The asker in each scenario is the
package's own ``AsyncClient`` over HTTP (httpx runs on asyncio too).  Waits poll a
condition between pilot pauses, under a deadline.
"""

from __future__ import annotations

import asyncio
import os
import selectors
import subprocess
import sys
import time
from argparse import Namespace
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from agentactors._cli_watch import PASSWORD, make_app
from agentactors._watch_app import AlwaysScreen, Backoff, RejectScreen, WatchApp
from agentactors.client import AsyncClient, Client
from agentactors.model import PermissionRequest

from .http_helpers import LISTENING, serve_command

CLI = [sys.executable, "-m", "agentactors"]
Scenario = Callable[[Pilot[None], WatchApp], Awaitable[None]]


@contextmanager
def serving(
    directory: Path,
    *extra: str,
    data_dir: Path | str = ":memory:",
    env: dict[str, str] | None = None,
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A ``serve`` process and its URL; killed if still alive at the end."""
    command, environment = serve_command(directory, data_dir, *extra, env=env)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=environment, bufsize=0)
    try:
        yield process, _listening(process)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        assert process.stdout is not None
        process.stdout.close()


def _listening(process: subprocess.Popen[bytes]) -> str:
    """The URL in the line ``serve`` prints once it listens (30 s at most)."""
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            while b"\n" not in buffer:
                left = deadline - time.monotonic()
                ready = left > 0 and selector.select(left)
                assert ready, f"serve is silent: {buffer!r}"
                chunk = os.read(process.stdout.fileno(), 4096)
                assert chunk, f"serve ended: {buffer!r}"
                buffer += chunk
            raw, _, buffer = buffer.partition(b"\n")
            line = raw.decode()
            if not line.startswith("plugins: "):
                assert line.startswith(LISTENING), line
                return line.split()[3]


def watch_app(url: str, directory: Path | None = None) -> WatchApp:
    """The app as ``agentactors watch --url URL [--directory DIR]`` makes it (the
    password from the environment), reconnecting quickly."""
    app = make_app(Namespace(url=url, directory=None if directory is None else str(directory)))
    assert isinstance(app, WatchApp)
    app.backoff = Backoff(first=0.05, most=0.2)
    return app


def drive(app: WatchApp, scenario: Scenario) -> None:
    async def main() -> None:
        async with app.run_test(size=(140, 40)) as pilot:
            await scenario(pilot, app)

    asyncio.run(main())


async def until(pilot: Pilot[None], check: Callable[[], object], what: str) -> None:
    """Let the app run until ``check()`` holds (20 s at most)."""
    try:
        async with asyncio.timeout(20):
            while not check():
                await pilot.pause(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def logged(app: WatchApp, *words: str) -> bool:
    return any(all(word in line for word in words) for line in app.log_lines)


async def held_ask(
    asker: AsyncClient, session_id: str, command: str
) -> asyncio.Task[PermissionRequest]:
    """An ask with ``?wait=true``, held by the server until decided."""
    ask = asker.ask(session_id, "bash", metadata={"command": command}, wait=True)
    return asyncio.ensure_future(ask)


async def choose(pilot: Pilot[None], app: WatchApp, request_id: str) -> None:
    """Move the highlight with the arrow keys until ``request_id`` is chosen."""
    for _ in range(len(app.pending)):
        await pilot.press("down")
        await pilot.pause()
        if app.chosen == request_id:
            return
    assert app.chosen == request_id


def test_a_pending_ask_appears_and_once_releases_it(tmp_path: Path) -> None:
    with serving(tmp_path) as (_process, url):

        async def scenario(pilot: Pilot[None], app: WatchApp) -> None:
            async with AsyncClient.connect(url) as asker:
                session = await asker.create_session(str(tmp_path), title="deploy bot")
                held = await held_ask(asker, session.id, "git push origin main")
                await until(pilot, lambda: len(app.pending) == 1, "the ask to appear")
                [request_id] = app.pending
                await choose(pilot, app, request_id)
                pane = str(app.query_one("#detail", Static).render())
                for shown in ("bash", "git push origin main", "deploy bot", str(tmp_path)):
                    assert shown in pane, pane
                assert "age:" in pane
                assert "time left: no expiry" in pane
                await pilot.press("o")
                final = await asyncio.wait_for(held, 20)
                assert (final.reply, final.state) == ("once", "replied")
                assert final.decided_by is not None
                assert final.decided_by.kind == "user"
                await until(pilot, lambda: logged(app, request_id, "once", "by you"), "the log")
                assert not app.pending

        drive(watch_app(url), scenario)


def rows(app: WatchApp) -> list[str]:
    options = app.query_one("#pending", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def test_every_directory_by_default_and_directory_narrows(tmp_path: Path) -> None:
    """Asked in two projects (one before the app lists, one while it follows): both
    shown, each row naming its project, each detail its directory; ``--directory``
    shows one project's only."""
    alpha, beta = tmp_path / "alpha", tmp_path / "beta"
    with serving(tmp_path) as (_process, url):
        with Client.connect(url) as asker:
            in_alpha = asker.create_session(str(alpha))
            in_beta = asker.create_session(str(beta))
            listed = asker.ask(in_alpha.id, "bash", metadata={"command": "make alpha"})

        async def everywhere(pilot: Pilot[None], app: WatchApp) -> None:
            async with AsyncClient.connect(url) as other:
                await until(pilot, lambda: listed.id in app.pending, "the listed ask")
                followed = await other.ask(in_beta.id, "bash", metadata={"command": "make beta"})
                await until(pilot, lambda: followed.id in app.pending, "the followed ask")
                assert rows(app) == ["beta: bash  make beta", "alpha: bash  make alpha"]
                assert "every directory" in str(app.query_one("#status", Static).render())
                for request_id, directory in ((listed.id, alpha), (followed.id, beta)):
                    await choose(pilot, app, request_id)
                    pane = str(app.query_one("#detail", Static).render())
                    assert f"directory: {directory}" in pane, pane
                await pilot.press("o")
                await until(pilot, lambda: logged(app, followed.id, "once", "by you"), "log")
                assert (await other.get(followed.id)).reply == "once"

        drive(watch_app(url), everywhere)

        async def narrowed(pilot: Pilot[None], app: WatchApp) -> None:
            async with AsyncClient.connect(url) as other:
                there = await other.ask(in_beta.id, "bash", metadata={"command": "make b2"})
                here = await other.ask(in_alpha.id, "bash", metadata={"command": "make a2"})
                await until(pilot, lambda: here.id in app.pending, "alpha's new ask")
                assert set(app.pending) == {listed.id, here.id}
                assert there.id not in app.pending
                assert all(row.startswith("bash  make a") for row in rows(app)), rows(app)

        drive(watch_app(url, alpha), narrowed)


def test_reject_with_a_message_reaches_the_asker(tmp_path: Path) -> None:
    with serving(tmp_path) as (_process, url):

        async def scenario(pilot: Pilot[None], app: WatchApp) -> None:
            async with AsyncClient.connect(url) as asker:
                session = await asker.create_session(str(tmp_path))
                held = await held_ask(asker, session.id, "rm -rf build")
                await until(pilot, lambda: len(app.pending) == 1, "the ask to appear")
                await choose(pilot, app, next(iter(app.pending)))
                await pilot.press("r")
                assert isinstance(app.screen, RejectScreen)
                await pilot.press(*"use make clean")
                assert app.screen.query_one(Input).value == "use make clean"
                await pilot.press("enter")
                final = await asyncio.wait_for(held, 20)
                assert final.reply == "reject"
                assert final.message == "use make clean"
                await until(pilot, lambda: logged(app, "rejected by you: use make clean"), "log")

        drive(watch_app(url, tmp_path), scenario)


def test_always_shows_the_patterns_and_saves_an_approval(tmp_path: Path) -> None:
    with serving(tmp_path) as (_process, url):

        async def scenario(pilot: Pilot[None], app: WatchApp) -> None:
            async with AsyncClient.connect(url) as asker:
                session = await asker.create_session(str(tmp_path))
                held = await held_ask(asker, session.id, "npm test")
                await until(pilot, lambda: len(app.pending) == 1, "the ask to appear")
                [request] = app.pending.values()
                saving = request.always or request.patterns
                await choose(pilot, app, request.id)
                await pilot.press("a")
                assert isinstance(app.screen, AlwaysScreen)
                dialog = str(app.screen.query_one(Static).render())
                assert all(pattern in dialog for pattern in saving), dialog
                assert f"this project ({tmp_path})" in dialog
                await pilot.press("p")
                final = await asyncio.wait_for(held, 20)
                assert final.reply == "always"
                saved = await asker.saved()
                assert {(a.pattern, a.scope) for a in saved} == {(p, "project") for p in saving}
                again = await asker.ask(session.id, "bash", metadata={"command": "npm test"})
                assert again.effect == "allow"
                await until(pilot, lambda: logged(app, "allowed always by you"), "the log")

        drive(watch_app(url), scenario)


def test_requests_decided_elsewhere_leave_with_a_log_line(tmp_path: Path) -> None:
    """Who decided: a user over HTTP, a timeout, an abort, the asker; the chosen request
    ending leaves nothing chosen; an answer to a request decided meanwhile is a line."""
    with serving(tmp_path) as (_process, url):

        async def scenario(pilot: Pilot[None], app: WatchApp) -> None:
            async with AsyncClient.connect(url) as other:
                session = await other.create_session(str(tmp_path))
                by_user = await held_ask(other, session.id, "make deploy")
                await until(pilot, lambda: len(app.pending) == 1, "the first ask")
                [first] = app.pending
                await choose(pilot, app, first)
                await other.reply(first, "reject", message="not on Fridays")
                await until(pilot, lambda: first not in app.pending, "it to leave")
                assert logged(app, first, "rejected by user", "not on Fridays")
                assert app.chosen is None
                assert "has ended" in str(app.query_one("#detail", Static).render())
                assert (await by_user).reply == "reject"

                await other.ask(session.id, "bash", ["sleep 1"], timeout=0.2)
                await until(pilot, lambda: logged(app, "sleep 1", "expired by timeout"), "expiry")

                asked = await other.ask(session.id, "bash", ["git fetch"])
                await until(pilot, lambda: asked.id in app.pending, "the third ask")
                await other.withdraw(asked.id)
                await until(pilot, lambda: logged(app, asked.id, "rejected by asker"), "withdraw")

                aborted = await other.ask(session.id, "bash", ["git gc"])
                await until(pilot, lambda: aborted.id in app.pending, "the fourth ask")
                await other.abort_session(session.id)
                await until(pilot, lambda: logged(app, aborted.id, "aborted by abort"), "abort")

                raced = await other.ask(session.id, "bash", ["git pull"])
                await until(pilot, lambda: raced.id in app.pending, "the fifth ask")
                await choose(pilot, app, raced.id)
                await other.reply(raced.id, "once")
                await pilot.press("o")  # before or after the app heard of it: either is fine
                await until(pilot, lambda: logged(app, raced.id, "by user"), "the race's line")
                assert raced.id not in app.pending
                assert app.is_running

        drive(watch_app(url), scenario)


def test_a_decided_request_answered_gets_the_conflict_as_a_line(tmp_path: Path) -> None:
    """The answer to a request that ended after it was listed: 409, a log line."""
    with serving(tmp_path) as (_process, url):

        async def scenario(pilot: Pilot[None], app: WatchApp) -> None:
            async with AsyncClient.connect(url) as other:
                session = await other.create_session(str(tmp_path))
                asked = await other.ask(session.id, "bash", ["make lint"])
                await until(pilot, lambda: asked.id in app.pending, "the ask")
                await other.reply(asked.id, "reject")
                await until(pilot, lambda: logged(app, asked.id, "rejected by user"), "the line")
                app._send(asked, "once")  # as a key pressed before the event came would
                late = ("your once came too late", asked.id, "rejected by user")
                await until(pilot, lambda: logged(app, *late), "the answer's line")
                assert app.is_running
                gone = attrs.evolve(asked, id="per_01M8VJHY105TYYWE37KFXP5WAR")
                app._send(gone, "reject")
                await until(pilot, lambda: logged(app, gone.id, "too late", "gone"), "404")

        drive(watch_app(url, tmp_path), scenario)


def test_the_server_going_away_shows_disconnected_and_it_reconnects(tmp_path: Path) -> None:
    data = tmp_path / "state"
    with serving(tmp_path, data_dir=data) as (process, url):
        port = url.rsplit(":", 1)[1]

        async def scenario(pilot: Pilot[None], app: WatchApp) -> None:
            async with AsyncClient.connect(url) as asker:
                session = await asker.create_session(str(tmp_path))
                asked = await asker.ask(session.id, "bash", ["terraform apply"])
            await until(pilot, lambda: asked.id in app.pending, "the ask")
            process.terminate()
            process.wait()
            await until(pilot, lambda: not app.connected, "disconnected")
            assert "disconnected" in app.status
            assert asked.id in app.pending  # still shown while away
            with serving(tmp_path, "--port", port, data_dir=data):
                await until(pilot, lambda: app.connected, "reconnected")
                assert asked.id in app.pending  # it survived the restart
                async with AsyncClient.connect(url) as asker:
                    await asker.reply(asked.id, "reject")
                await until(pilot, lambda: logged(app, asked.id, "rejected by user"), "log")

        drive(watch_app(url), scenario)


def test_the_password_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(tmp_path, env={PASSWORD: "s3cret"}) as (_process, url):

        async def scenario(pilot: Pilot[None], app: WatchApp) -> None:
            async with AsyncClient.connect(url, password="s3cret") as asker:
                session = await asker.create_session(str(tmp_path))
                asked = await asker.ask(session.id, "bash", ["kubectl get pods"])
            await until(pilot, lambda: asked.id in app.pending, "the ask")

        monkeypatch.setenv(PASSWORD, "s3cret")
        drive(watch_app(url), scenario)

        async def refused(pilot: Pilot[None], app: WatchApp) -> None:
            await until(pilot, lambda: app.failure is not None, "the refusal")
            assert PASSWORD in str(app.failure)

        monkeypatch.setenv(PASSWORD, "wrong")
        app = watch_app(url)
        drive(app, refused)
        assert app.return_code == 2

        # the command line says it before the app takes the terminal
        environment = {**os.environ, PASSWORD: "wrong"}
        answer = subprocess.run(
            [*CLI, "watch", "--url", url], capture_output=True, env=environment, check=False
        )
        assert answer.returncode == 2
        assert b"wrong credentials" in answer.stderr
        assert PASSWORD.encode() in answer.stderr
        assert len(answer.stderr.decode().strip().splitlines()) == 1


def test_an_unreachable_server_is_one_line_and_exit_2() -> None:
    answer = subprocess.run(
        [*CLI, "watch", "--url", "http://127.0.0.1:9"], capture_output=True, check=False
    )
    assert answer.returncode == 2
    assert answer.stderr.decode().startswith("agentactors: cannot reach http://127.0.0.1:9")
    assert len(answer.stderr.decode().strip().splitlines()) == 1

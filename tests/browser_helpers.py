"""Helpers for the browser tests: a ``serve`` process driven synchronously (Playwright's
sync API runs its own event loop, so these tests are plain functions, not trio ones),
Debian's Chromium under Playwright, and an HTTP client for the asker's side."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import httpx
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

CHROMIUM = os.environ.get("AGENTACTORS_CHROMIUM", "/usr/bin/chromium")
"""Debian's Chromium (``apt-get install chromium``; the Makefile installs it)."""
SCREENSHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"
"""Where the browser tests leave their screenshots (``build/`` is not committed)."""


def chromium_or_skip() -> str:
    """The Chromium executable; skips the module's tests if it or Playwright is absent
    (``make test`` installs both)."""
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev extra)")
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@attrs.define
class Tab:
    """A page in a browser context of its own, and the script errors it has logged."""

    page: Page
    errors: list[str]

    def close(self, *, allowed: str | None = None) -> None:
        """Close its context; fails if a script error (other than ``allowed``) was logged."""
        errors = [e for e in self.errors if allowed is None or allowed not in e]
        self.page.context.close()
        assert errors == []


def open_tab(browser: Browser, url: str, viewport: ViewportSize, *, phone: bool = False) -> Tab:
    """``url`` in a fresh context (a touch phone at twice the pixels if ``phone``); an
    inbox page is returned once its event stream is live."""
    from playwright.sync_api import expect

    context = browser.new_context(
        viewport=viewport, is_mobile=phone, has_touch=phone, device_scale_factor=2 if phone else 1
    )
    tab = Tab(context.new_page(), [])
    tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.page.goto(url)
    if tab.page.locator("#live").count():
        expect(tab.page.locator("#live")).to_have_attribute("data-state", "live")
    return tab


@attrs.define
class Served:
    """A running ``serve`` process: its URL, and an HTTP client with its credentials."""

    url: str
    client: httpx.Client
    process: subprocess.Popen[bytes]
    pool: ThreadPoolExecutor

    def session(self, title: str) -> str:
        response = self.client.post("/session", json={"title": title})
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    def ask(self, session_id: str, command: str, **body: Any) -> dict[str, Any]:
        """Ask for a bash command without waiting: the request with its effect."""
        body = {"permission": "bash", "metadata": {"command": command}, **body}
        response = self.client.post(f"/session/{session_id}/permission", json=body)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def ask_held(self, session_id: str, command: str, **body: Any) -> Future[dict[str, Any]]:
        """Ask with ``?wait=true`` on another thread: the future of the final state."""
        body = {"permission": "bash", "metadata": {"command": command}, **body}
        path = f"/session/{session_id}/permission?wait=true"

        def held() -> dict[str, Any]:
            with httpx.Client(base_url=self.url, headers=self.client.headers, timeout=30) as c:
                response = c.post(path, json=body)
            assert response.status_code == 200, response.text
            found: dict[str, Any] = response.json()
            return found

        return self.pool.submit(held)


def _line(process: subprocess.Popen[bytes], timeout: float = 30) -> str:
    """The next line ``process`` prints; fails if none begins within ``timeout``."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, f"serve printed nothing in {timeout} s"
    return process.stdout.readline().decode()


@contextmanager
def serve(directory: Path, password: str | None = None) -> Iterator[Served]:
    """``python -m agentactors serve --port 0`` in ``directory`` (state in memory, no
    user config), until the block ends."""
    command = [sys.executable, "-m", "agentactors", "serve", "--port", "0"]
    command += ["--directory", str(directory), "--data-dir", ":memory:"]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    environment["XDG_CONFIG_HOME"] = str(directory / "config")
    environment.pop("AGENTACTORS_SERVER_PASSWORD", None)
    headers = {}
    if password is not None:
        environment["AGENTACTORS_SERVER_PASSWORD"] = password
        headers["Authorization"] = f"Bearer {password}"
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=environment)
    pool = ThreadPoolExecutor(8)
    try:
        line = _line(process)
        if line.startswith("plugins: "):  # the plugins started come first
            line = _line(process)
        assert line.startswith("agentactors listening on http://127.0.0.1:"), line
        url = line.split()[3]
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            yield Served(url, client, process, pool)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        pool.shutdown()  # held asks ended with the server

"""Real OpenCode clients against a served process: the npm package ``@opencode-ai/sdk``.

``tests/opencode_sdk/check.mjs`` drives the server with the SDK's v1 client
(``import { createOpencodeClient } from "@opencode-ai/sdk"``) or its v2 client
(``@opencode-ai/sdk/v2``), created with a directory as OpenCode clients are: health (v2),
session create/list/get/update/abort/delete, ``event.subscribe`` and ``global.event``
(``server.connected`` first, then ``permission.asked`` for asks made through the native
``?wait=true`` route), the pending list (v2), replies through the SDK (v1: the
session-scoped ``postSessionIdPermissionsPermissionId``; v2: ``permission.reply`` and the
deprecated ``permission.respond``), each held ask released with the decision, and the
errors the SDK sees. The script checks as it goes and prints one JSON object (with every
HTTP exchange it made, to show a mismatch exactly); this test runs it and checks the
server's own record of each decision.

The SDK's exact version is pinned in ``tests/opencode_sdk/package.json`` (with its
``package-lock.json``). ``make test`` installs it with ``npm ci``; this test does too when
``tests/opencode_sdk/node_modules`` lacks that version, so plain ``pytest`` works. Skipped
only when ``node`` or ``npm`` is not on PATH.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import trio

from .http_helpers import serve_process

SDK_DIR = Path(__file__).parent / "opencode_sdk"
SCRIPT = SDK_DIR / "check.mjs"
NODE = shutil.which("node")
NPM = shutil.which("npm")

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="node and npm are not on PATH: they run the OpenCode SDK (npm @opencode-ai/sdk)",
)


def _pinned_version() -> str:
    package = json.loads((SDK_DIR / "package.json").read_text())
    return str(package["dependencies"]["@opencode-ai/sdk"])


def _installed_version() -> str | None:
    manifest = SDK_DIR / "node_modules" / "@opencode-ai" / "sdk" / "package.json"
    if not manifest.exists():
        return None
    return str(json.loads(manifest.read_text())["version"])


async def _ensure_sdk() -> None:
    """``npm ci`` in ``tests/opencode_sdk`` unless the pinned SDK is installed there."""
    if _installed_version() == _pinned_version():
        return
    assert NPM is not None
    command = [NPM, "ci", "--no-audit", "--no-fund"]
    with trio.fail_after(300):
        result = await trio.run_process(
            command, cwd=SDK_DIR, capture_stdout=True, capture_stderr=True, check=False
        )
    output = (result.stdout + result.stderr).decode(errors="replace")
    assert result.returncode == 0, f"npm ci in {SDK_DIR} failed:\n{output}"
    assert _installed_version() == _pinned_version(), output


def _report(run: subprocess.CompletedProcess[bytes], out: dict[str, Any] | None) -> str:
    """What to show when the script failed: its error, then the HTTP exchanges."""
    if out is None:
        stdout = run.stdout.decode(errors="replace")
        return f"exit {run.returncode}\nstdout:\n{stdout}\nstderr:\n{run.stderr.decode()}"
    lines = [f"exit {run.returncode}: {out.get('error')}", "exchanges:"]
    for exchange in out.get("exchanges", []):
        request = f"{exchange['method']} {exchange['path']} {exchange.get('headers')}"
        lines.append(f"  {request} {exchange.get('body', '')}")
        lines.append(f"    -> {exchange.get('status')} {exchange.get('response', '')}")
    lines.append(f"sseErrors: {out.get('sseErrors')}")
    lines.append(f"stderr: {run.stderr.decode(errors='replace')}")
    return "\n".join(lines)


async def _drive(url: str, directory: Path, client: str) -> dict[str, Any]:
    """Run ``check.mjs`` against ``url``; its JSON output, which must say ``ok``."""
    assert NODE is not None
    command = [NODE, str(SCRIPT), url, str(directory), client]
    with trio.fail_after(30):
        run = await trio.run_process(command, capture_stdout=True, capture_stderr=True, check=False)
    try:
        out: dict[str, Any] | None = json.loads(run.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        out = None
    assert out is not None, _report(run, out)
    assert run.returncode == 0, _report(run, out)
    assert out["ok"] is True, _report(run, out)
    assert out["client"] == client
    return out


# What each client decides, in order: (command, through which SDK method, state, reply).
EXPECTED = {
    "v1": [
        ("git push", "postSessionIdPermissionsPermissionId", "replied", "once"),
        ("npm publish", "postSessionIdPermissionsPermissionId", "replied", "reject"),
        ("docker push app", "postSessionIdPermissionsPermissionId", "replied", "always"),
        ("make deploy", "session.abort", "aborted", "reject"),
    ],
    "v2": [
        ("git push", "permission.reply", "replied", "once"),
        ("npm publish", "permission.reply", "replied", "reject"),
        ("rm -rf build", "permission.respond", "replied", "once"),
        ("docker push app", "permission.reply", "replied", "always"),
        ("make deploy", "session.abort", "aborted", "reject"),
    ],
}


@pytest.mark.parametrize("client", ["v1", "v2"])
async def test_opencode_sdk_client(client: str, tmp_path: Path) -> None:
    await _ensure_sdk()
    # Not the server's --directory, so the SDK's scoping is what puts sessions there; a
    # space and a non-ASCII letter, which the SDK URL-encodes (header and query).
    directory = tmp_path / "project dir é"
    directory.mkdir()
    async with serve_process(tmp_path, tmp_path / "data") as (_process, url):
        out = await _drive(url, directory, client)

        assert out["firstEvents"]["event"]["type"] == "server.connected"
        assert out["firstEvents"]["global"]["payload"]["type"] == "server.connected"
        if client == "v2":
            assert out["health"]["healthy"] is True
        assert out["session"]["directory"] == str(directory)
        assert out["session"]["title"] == f"renamed {client}"

        rounds = out["rounds"]
        expected = EXPECTED[client]
        assert [(r["command"], r["via"], r["state"], r["reply"]) for r in rounds] == expected

        # The server's own record of each decision the SDK made.
        async with httpx.AsyncClient(base_url=url, timeout=10.0) as http:
            for done in rounds:
                response = await http.get(f"/permission/{done['id']}")
                assert response.status_code == 200, response.text
                state = response.json()
                assert state["directory"] == str(directory)
                assert (state["state"], state["reply"]) == (done["state"], done["reply"])
                assert state.get("message") == done.get("message")
                kind = "abort" if done["via"] == "session.abort" else "user"
                assert state["decidedBy"]["kind"] == kind, state
            response = await http.get("/permission", params={"directory": str(directory)})
            assert response.json() == []
            response = await http.get("/session", params={"directory": str(directory)})
            assert response.json() == []

    # Errors as the SDK received them (ours: a decided request is a 409, not OpenCode's 404).
    errors = out["errors"]
    assert errors["replyDecided"]["status"] == 409
    assert errors["replyDecided"]["body"]["_tag"] == "PermissionAlreadyDecidedError"
    assert errors["replyDecided"]["body"]["request"]["id"] == rounds[0]["id"]
    assert errors["getDeleted"]["status"] == 404
    assert errors["getDeleted"]["body"]["_tag"] == "SessionNotFoundError"
    if client == "v2":
        assert errors["replyUnknown"]["status"] == 404
        assert errors["replyUnknown"]["body"]["_tag"] == "PermissionNotFoundError"
        message = next(r for r in rounds if r["command"] == "npm publish")["message"]
        assert message == "use the release pipeline"

    # Every SDK call carried the client's directory: ?directory= on GETs, else the header
    # (v1's event streams: the header only).
    for exchange in out["exchanges"]:
        path = exchange["path"]
        if "/permission?wait=true" in path or "directory=%2Fnowhere" in path:
            continue  # the script's own native asks (plain fetch); v2's scoping probe
        query = httpx.URL(path).params.get("directory")
        header = exchange["headers"].get("x-opencode-directory")
        scoped = query if query is not None else unquote(header or "")
        assert scoped == str(directory), exchange

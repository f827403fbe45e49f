"""``agentactors hook claude-code|codex|gemini``: an agent's command hook.

Reads the hook's JSON on stdin, forwards it to the server's ``POST /hook/<agent>``
(which asks, holds while a person decides, and answers in the agent's shape), prints
that answer and exits 0.  If no decision can be had (the server cannot be reached, or
refuses the call) it never allows: by default it answers "no decision", so the agent
asks its person as usual (Gemini: ``ask``); with ``--fail closed`` it denies.

Run once per tool call, so it loads only the standard library, and
``agentactors.integrations`` only when the server gave no answer (the HTTP stack and the
actors stay unloaded).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

DEFAULT_URL = "http://127.0.0.1:4096"
PASSWORD_ENV = "AGENTACTORS_SERVER_PASSWORD"
CONNECT_TIMEOUT = 5.0  # seconds to reach the server
HOLD_TIMEOUT = 3600.0  # seconds an answer may take: the agent's own hook timeout ends us first
AGENT_NAMES = ("claude-code", "codex", "gemini")


def add_command(commands: Any) -> None:
    """Register ``hook`` on an argparse subparsers object."""
    hook = commands.add_parser("hook", help="an agent's command hook (reads its JSON on stdin)")
    hook.add_argument("agent", choices=AGENT_NAMES)
    hook.add_argument("--url", default=os.environ.get("AGENTACTORS_URL", DEFAULT_URL))
    hook.add_argument(
        "--fail",
        choices=("open", "closed"),
        default="open",
        help="without a decision from the server: open (the agent's own prompt, default) "
        "or closed (deny)",
    )
    hook.set_defaults(run=run)


def main(argv: list[str]) -> int:
    """``agentactors hook ...`` without building the other commands' parsers."""
    top = argparse.ArgumentParser(prog="agentactors")
    add_command(top.add_subparsers(dest="command", required=True))
    args = top.parse_args(["hook", *argv])
    status: int = args.run(args)
    return status


def run(args: argparse.Namespace) -> int:
    raw = sys.stdin.buffer.read()
    try:
        event = str(json.loads(raw)["hook_event_name"])
    except (ValueError, TypeError, KeyError) as exc:
        print(f"agentactors hook {args.agent}: the input is not a hook's JSON ({exc})",
              file=sys.stderr)  # fmt: skip
        return 0
    try:
        answer = _ask(args.url, args.agent, raw)
    except _NoDecision as exc:
        # the agents' answers load only when the server gave none (attrs and the tables)
        from agentactors.integrations import AGENTS  # noqa: PLC0415

        print(f"agentactors hook {args.agent}: {exc}", file=sys.stderr)
        reason = f"agentactors: {exc}"
        answer = AGENTS[args.agent].unreachable(event, reason, args.fail == "closed")
    if answer:
        print(json.dumps(answer))
    return 0


class _NoDecision(Exception):
    """The server gave no decision; the message says why."""


def _ask(url: str, agent: str, body: bytes) -> Any:
    """The server's answer to the hook.  Raises _NoDecision."""
    import http.client  # noqa: PLC0415 - loaded once a hook has been read
    from urllib.parse import urlsplit  # noqa: PLC0415

    where = urlsplit(url)
    if where.scheme not in ("http", "https") or not where.hostname:
        raise _NoDecision(f"--url {url}: not an http(s) URL")
    kind = http.client.HTTPSConnection if where.scheme == "https" else http.client.HTTPConnection
    headers = {"Content-Type": "application/json", "Host": where.netloc}
    password = os.environ.get(PASSWORD_ENV)
    if password:
        headers["Authorization"] = f"Bearer {password}"
    connection = kind(where.hostname, where.port, timeout=CONNECT_TIMEOUT)
    try:
        connection.connect()
        if connection.sock is not None:
            connection.sock.settimeout(HOLD_TIMEOUT)
        connection.request("POST", f"{where.path.rstrip('/')}/hook/{agent}", body, headers)
        response = connection.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out
        raise _NoDecision(f"cannot reach {url}: {exc or type(exc).__name__}") from None
    finally:
        connection.close()
    if response.status != 200:
        try:
            message = json.loads(data)["message"]
        except (ValueError, TypeError, KeyError):
            message = data[:200].decode("utf-8", "replace")
        raise _NoDecision(f"{url} answered {response.status}: {message}")
    try:
        return json.loads(data)
    except ValueError:
        raise _NoDecision(f"{url} answered with something that is not JSON") from None

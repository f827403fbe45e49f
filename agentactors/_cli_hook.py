"""``agentactors hook claude-code|codex|gemini``: an agent's command hook.

Reads the hook's JSON on stdin, forwards it to the server's ``POST /hook/<agent>``
(which asks, holds while a person decides, and answers in the agent's shape), prints
that answer and exits 0.  If no decision can be had (the server cannot be reached or
refuses the call, ``--url`` names no server, stdin is not a hook's JSON) it says why on
stderr and never allows: by default it answers "no decision", so the agent asks its
person as usual (Gemini: ``ask``); with ``--fail closed`` it denies.

Run once per tool call, so it loads only the standard library, and
``agentactors.integrations`` only when the server gave no answer (the HTTP stack and the
actors stay unloaded).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from ._server_url import PASSWORD_ENV, server_url

if TYPE_CHECKING:
    import http.client

DEFAULT_URL = "http://127.0.0.1:4096"
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
    closed = args.fail == "closed"
    raw = sys.stdin.buffer.read()
    try:
        event = str(json.loads(raw)["hook_event_name"])
    except (ValueError, TypeError, KeyError) as exc:
        return _no_decision(args.agent, None, f"the input is not a hook's JSON ({exc})", closed)
    try:
        answer = _ask(args.url, args.agent, raw)
    except _NoDecision as exc:
        return _no_decision(args.agent, event, str(exc), closed)
    if answer:
        print(json.dumps(answer))
    return 0


def _no_decision(agent_name: str, event: str | None, why: str, closed: bool) -> int:
    """Say ``why`` on stderr and print the answer without a decision: nothing (the
    agent's own prompt; Gemini: ask), or with ``closed`` a deny.  An input that named
    no event is answered, when closed, as the agent's first event (Claude, Codex:
    PreToolUse; Gemini: BeforeTool), and not at all when open."""
    print(f"agentactors hook {agent_name}: {why}", file=sys.stderr)
    if event is None and not closed:
        return 0
    # the agents' answers load only when the server gave none (attrs and the tables)
    from agentactors.integrations import AGENTS  # noqa: PLC0415

    agent = AGENTS[agent_name]
    answer = agent.unreachable(event or agent.events[0], f"agentactors: {why}", closed)
    if answer:
        print(json.dumps(answer))
    return 0


class _NoDecision(Exception):
    """The server gave no decision; the message says why."""


def _ask(url: str, agent: str, body: bytes) -> Any:
    """The server's answer to the hook.  Raises _NoDecision."""
    import http.client  # noqa: PLC0415 - loaded once a hook has been read

    try:
        where = server_url(url)
    except ValueError as exc:
        raise _NoDecision(str(exc)) from None
    kind = http.client.HTTPSConnection if where.scheme == "https" else http.client.HTTPConnection
    headers = {"Content-Type": "application/json", "Host": where.netloc}
    password = os.environ.get(PASSWORD_ENV)
    if password:
        headers["Authorization"] = f"Bearer {password}"
    connection = kind(where.hostname or "", where.port, timeout=CONNECT_TIMEOUT)
    try:
        connection.connect()
        if connection.sock is not None:
            connection.sock.settimeout(HOLD_TIMEOUT)
        try:
            connection.request("POST", f"{where.path.rstrip('/')}/hook/{agent}", body, headers)
        except OSError as exc:  # it may have answered (a 413) and closed before the end
            response = _answered_anyway(connection, exc)
        else:
            response = connection.getresponse()
        data = response.read()
    except (OSError, ValueError, http.client.HTTPException) as exc:  # refused, reset, timed out
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


def _answered_anyway(connection: http.client.HTTPConnection, error: OSError) -> Any:
    """The answer a server sent before it stopped reading the request; raises ``error``
    if there is none."""
    import http.client  # noqa: PLC0415 - as in _ask

    try:
        return connection.getresponse()
    except (OSError, http.client.HTTPException):
        raise error from None

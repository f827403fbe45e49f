"""``ask``, ``list`` and ``reply``: the command line as an HTTP client of a running server.

``ask`` asks, then, while the request is pending, prints its id and the ``reply``
command that answers it (stderr) and long-polls until it ends.  Ctrl-C withdraws it (it
ends rejected, ``decidedBy: asker``); a Ctrl-C while it is being asked is held until the
server answered, so the request is withdrawn rather than left pending.

Exit codes: ``ask`` 0 when allowed, 1 when rejected or denied (printing why), 2 for
usage or connection errors; ``list`` and ``reply`` 0 on success, 2 on error; 130 after
Ctrl-C (one line, no traceback).  The server is ``--url`` (default ``$AGENTACTORS_URL``
or http://127.0.0.1:4096); the password comes from ``$AGENTACTORS_SERVER_PASSWORD``.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
from typing import TYPE_CHECKING, Any

from agentactors._cli_signals import INTERRUPTED, ended_as_sigint, sigint_held
from agentactors.model import MAX_LIMIT, AgentActorsError, AlreadyDecided, PermissionRequest, wire

if TYPE_CHECKING:  # imported when a command runs: serve's start-up does not need it
    from agentactors.client import Client

DEFAULT_URL = "http://127.0.0.1:4096"
WAIT_SLICE = 60.0  # seconds of one long-poll while ask waits


def add_commands(commands: Any) -> None:
    """Register the client subcommands on an argparse subparsers object."""
    ask = commands.add_parser("ask", help="ask for a permission and wait for the answer")
    ask.add_argument("permission", help="the permission kind, e.g. bash, edit, read")
    ask.add_argument("patterns", nargs="*", help="what is asked for, e.g. 'git status'")
    ask.add_argument("--command", help="a shell command for the server to parse (bash)")
    ask.add_argument("--path", help="a file path for the server to normalise (file kinds)")
    ask.add_argument("--session", help="the session (default: a new one here)")
    ask.add_argument("--timeout", type=_seconds, help="seconds before the request expires")
    ask.set_defaults(run=_ask)

    pending = commands.add_parser("list", help="list pending requests")
    pending.add_argument("--directory", help="only this directory's requests")
    pending.set_defaults(run=_list)

    reply = commands.add_parser("reply", help="reply to a pending request")
    reply.add_argument("request_id", metavar="ID")
    reply.add_argument("reply", choices=["once", "always", "reject"])
    reply.add_argument("-m", "--message", help="feedback for the asker (with reject)")
    reply.add_argument("--scope", choices=["session", "project"], default="session")
    reply.set_defaults(run=_reply)

    for sub in (ask, pending, reply):
        sub.add_argument("--url", default=os.environ.get("AGENTACTORS_URL", DEFAULT_URL))


def _client(args: argparse.Namespace) -> Client:
    from agentactors.client import Client  # noqa: PLC0415 - see the import above

    return Client.connect(args.url, password=os.environ.get("AGENTACTORS_SERVER_PASSWORD"))


def _seconds(text: str) -> float:
    """A positive, finite number of seconds (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def _guarded(run: Any, args: argparse.Namespace) -> int:
    import httpx  # noqa: PLC0415 - not on serve's start-up path

    try:
        with _client(args) as client:
            status: int = run(client, args)
            return status
    except httpx.TransportError as exc:
        print(f"agentactors: cannot reach {args.url}: {exc}", file=sys.stderr)
    except httpx.InvalidURL as exc:
        print(f"agentactors: --url {args.url}: {exc}", file=sys.stderr)
    except AgentActorsError as exc:
        print(f"agentactors: {exc.message}", file=sys.stderr)
    except KeyboardInterrupt:
        return _interrupted()
    return 2


def _interrupted() -> int:
    print("agentactors: interrupted", file=sys.stderr)
    return INTERRUPTED


def _ask(args: argparse.Namespace) -> int:
    def run(client: Client, args: argparse.Namespace) -> int:
        metadata: dict[str, Any] = {}
        if args.command:
            metadata["command"] = args.command
        if args.path:
            metadata["path"] = args.path
        if not args.patterns and not metadata:
            print("agentactors: give patterns, --command or --path", file=sys.stderr)
            return 2
        session_id = args.session or client.create_session(os.getcwd(), title="cli").id
        return _ask_and_wait(client, args, session_id, metadata)

    with ended_as_sigint():
        return _guarded(run, args)


def _ask_and_wait(
    client: Client, args: argparse.Namespace, session_id: str, metadata: dict[str, Any]
) -> int:
    """Ask; while pending, say how to answer and wait.  From the moment the server has
    answered the ask, a Ctrl-C withdraws the request (exit 130)."""
    asked: PermissionRequest | None = None
    final: PermissionRequest | None = None
    try:
        with sigint_held() as interrupted:  # once asked, the id is needed to take it back
            asked = client.ask(
                session_id, args.permission, args.patterns, metadata=metadata,
                timeout=args.timeout,
            )  # fmt: skip
        if not interrupted():
            if asked.pending:
                print(f"agentactors: waiting for {asked.id}; answer with: "
                      f"{_reply_command(args, asked.id)}", file=sys.stderr, flush=True)  # fmt: skip
            final = _decision(client, asked.id) if asked.pending else asked
    except KeyboardInterrupt:
        pass
    if final is None:  # interrupted
        return _withdraw(client, asked.id) if asked and asked.pending else _interrupted()
    print(_verdict(final))
    return 0 if final.allowed else 1


def _reply_command(args: argparse.Namespace, request_id: str) -> str:
    url = "" if args.url == DEFAULT_URL else f" --url {shlex.quote(args.url)}"
    return f"agentactors reply {request_id} once|always|reject{url}"


def _decision(client: Client, request_id: str) -> PermissionRequest:
    """The request's final state: long-polls of ``WAIT_SLICE`` seconds until it ends."""
    while True:
        state = client.wait(request_id, timeout=WAIT_SLICE)
        if not state.pending:
            return state


def _withdraw(client: Client, request_id: str) -> int:
    """Ctrl-C: take the request back (rejected, decided by the asker); exit 130."""
    with sigint_held():  # one more Ctrl-C is held; a second ends the withdrawal
        try:
            client.withdraw(request_id)
        except AlreadyDecided as exc:
            print(f"agentactors: interrupted; {request_id} had already ended: "
                  f"{_verdict(exc.request)}", file=sys.stderr)  # fmt: skip
            return INTERRUPTED
    print(f"agentactors: withdrawn {request_id}", file=sys.stderr)
    return INTERRUPTED


def _verdict(request: PermissionRequest) -> str:
    outcome = "allowed" if request.allowed else "rejected"
    by = wire.decider(request.decided_by) or {}
    who = by.get("kind", "?") + (f" {by['name']}" if by.get("name") else "")
    why = f": {request.message}" if request.message else ""
    return f"{outcome} ({request.state}, by {who}){why}"


def _list(args: argparse.Namespace) -> int:
    def run(client: Client, args: argparse.Namespace) -> int:
        for request in client.walk(client.pending, directory=args.directory, limit=MAX_LIMIT):
            print(f"{request.id}  {request.session_id}  {request.permission}  "
                  f"{' | '.join(request.patterns)}")  # fmt: skip
        return 0

    return _guarded(run, args)


def _reply(args: argparse.Namespace) -> int:
    def run(client: Client, args: argparse.Namespace) -> int:
        final = client.reply(args.request_id, args.reply, message=args.message, scope=args.scope)
        print(f"{final.id}: {_verdict(final)}")
        return 0

    return _guarded(run, args)

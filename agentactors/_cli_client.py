"""``ask``, ``list`` and ``reply``: the command line as an HTTP client of a running server.

Exit codes: ``ask`` 0 when allowed, 1 when rejected or denied (printing why), 2 for
usage or connection errors; ``list`` and ``reply`` 0 on success, 2 on error.  The server
is ``--url`` (default ``$AGENTACTORS_URL`` or http://127.0.0.1:4096); the password comes
from ``$AGENTACTORS_SERVER_PASSWORD``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from agentactors.actors import MAX_LIMIT, AgentActorsError, PermissionRequest, wire

if TYPE_CHECKING:  # imported when a command runs: serve's start-up does not need it
    from agentactors.client import Client

DEFAULT_URL = "http://127.0.0.1:4096"


def add_commands(commands: Any) -> None:
    """Register the client subcommands on an argparse subparsers object."""
    ask = commands.add_parser("ask", help="ask for a permission and wait for the answer")
    ask.add_argument("permission", help="the permission kind, e.g. bash, edit, read")
    ask.add_argument("patterns", nargs="*", help="what is asked for, e.g. 'git status'")
    ask.add_argument("--command", help="a shell command for the server to parse (bash)")
    ask.add_argument("--path", help="a file path for the server to normalise (file kinds)")
    ask.add_argument("--session", help="the session (default: a new one here)")
    ask.add_argument("--timeout", type=float, help="seconds before the request expires")
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


def _guarded(run: Any, args: argparse.Namespace) -> int:
    import httpx  # noqa: PLC0415 - not on serve's start-up path

    try:
        with _client(args) as client:
            status: int = run(client, args)
            return status
    except httpx.TransportError as exc:
        print(f"agentactors: cannot reach {args.url}: {exc}", file=sys.stderr)
    except AgentActorsError as exc:
        print(f"agentactors: {exc.message}", file=sys.stderr)
    return 2


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
        final = client.ask(
            session_id, args.permission, args.patterns, metadata=metadata,
            timeout=args.timeout, wait=True,
        )  # fmt: skip
        print(_verdict(final))
        return 0 if final.allowed else 1

    return _guarded(run, args)


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

"""``agentactors watch``: the terminal approver (a Textual app, :mod:`agentactors._watch_app`).

Before the app takes the terminal, one listing checks the server: unreachable, a bad
``--url`` or a refused password is one line and exit 2, as for the other client
commands.  Textual is imported only then: the other commands never pay for it.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from agentactors._cli_client import DEFAULT_URL, _guarded

PASSWORD = "AGENTACTORS_SERVER_PASSWORD"


def add_command(commands: Any) -> None:
    """Register ``watch`` on an argparse subparsers object."""
    watch = commands.add_parser("watch", help="answer pending requests in the terminal")
    watch.add_argument("--url", default=os.environ.get("AGENTACTORS_URL", DEFAULT_URL))
    watch.add_argument(
        "--directory", help="only this directory's requests (default: every directory's)"
    )
    watch.set_defaults(run=_watch)


def make_app(args: argparse.Namespace) -> Any:
    """The app for ``args``, the password from the environment (a ``WatchApp``)."""
    from agentactors._watch_app import WatchApp  # noqa: PLC0415 - Textual only for watch

    directory = None if args.directory is None else os.path.abspath(args.directory)
    return WatchApp(args.url, password=os.environ.get(PASSWORD), directory=directory)


def _watch(args: argparse.Namespace) -> int:
    status = _guarded(_reachable, args)
    if status:
        return status
    app = make_app(args)
    app.run()
    if app.failure:
        print(f"agentactors: {app.failure}", file=sys.stderr)
    code: int = app.return_code or 0
    return code


def _reachable(client: Any, args: argparse.Namespace) -> int:
    from agentactors.client import Unauthorized  # noqa: PLC0415 - as _cli_client's

    try:
        if args.directory is None:
            client.inbox(limit=1)
        else:
            client.pending(directory=os.path.abspath(args.directory), limit=1)
    except Unauthorized as exc:
        print(f"agentactors: {exc.message}: set {PASSWORD}", file=sys.stderr)
        return 2
    return 0

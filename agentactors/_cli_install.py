"""``agentactors install AGENT``: write an agent's hook configuration (OpenCode: its
plugin file).

Merges our hooks into the agent's settings file (other hooks and keys untouched; running
it again changes nothing), or with ``--dry-run`` prints the change.  A settings file
that is not valid JSON, that a rewrite would damage (duplicate keys, non-finite
numbers) or that is read-only is left as it is, and a bad ``--url`` or a ``--fail``
the hook cannot carry writes nothing (exit 2, saying why).
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from typing import Any

from ._server_url import server_url

DEFAULT_URL = "http://127.0.0.1:4096"


def add_command(commands: Any) -> None:
    """Register ``install`` on an argparse subparsers object."""
    from agentactors.integrations import INSTALLERS  # noqa: PLC0415 - light, and one place

    install = commands.add_parser("install", help="connect an agent: write its hook settings")
    install.add_argument("agent", choices=sorted(INSTALLERS))
    scope = install.add_mutually_exclusive_group()
    scope.add_argument(
        "--user",
        dest="scope",
        action="store_const",
        const="user",
        help="your own settings, for every project (default)",
    )
    scope.add_argument(
        "--project",
        dest="scope",
        action="store_const",
        const="project",
        help="this project's settings (the current directory)",
    )
    transport = install.add_mutually_exclusive_group()
    transport.add_argument(
        "--http",
        dest="transport",
        action="store_const",
        const="http",
        help="an HTTP hook (Claude Code's default)",
    )
    transport.add_argument(
        "--command",
        dest="transport",
        action="store_const",
        const="command",
        help="a command hook (agentactors hook AGENT)",
    )
    install.add_argument("--url", default=os.environ.get("AGENTACTORS_URL", DEFAULT_URL))
    install.add_argument(
        "--fail",
        choices=("open", "closed"),
        default="open",
        help="a command hook's answer without the server (default open)",
    )
    install.add_argument("--dry-run", action="store_true", help="print the change only")
    install.set_defaults(run=run, scope="user", transport=None)


def run(args: argparse.Namespace) -> int:
    from agentactors.integrations import (  # noqa: PLC0415 - as in add_command
        InstallError,
        InstallOptions,
        installer,
        write,
    )

    try:
        server_url(args.url)
    except ValueError as exc:
        print(f"agentactors install {args.agent}: {exc}; nothing was written", file=sys.stderr)
        return 2
    options = InstallOptions(
        scope=args.scope, transport=args.transport, url=args.url, fail=args.fail
    )
    try:
        plan = installer(args.agent)(options)
    except InstallError as exc:
        print(f"agentactors install {args.agent}: {exc}", file=sys.stderr)
        return 2
    for change in plan.changes:
        if not change.changed:
            print(f"{change.path}: already set up, nothing to change")
        elif args.dry_run:
            before = (change.before or "").splitlines(keepends=True)
            label = str(change.path)
            sys.stdout.writelines(
                difflib.unified_diff(
                    before,
                    change.after.splitlines(keepends=True),
                    fromfile=label if change.before is not None else "/dev/null",
                    tofile=label,
                )
            )
        else:
            try:
                write(change)
            except OSError as exc:
                print(
                    f"agentactors install {args.agent}: cannot write {change.path}: {exc}",
                    file=sys.stderr,
                )
                return 2
            print(f"{change.path}: {'updated' if change.before is not None else 'created'}")
    if args.dry_run:
        print("(dry run: nothing written)")
    for note in plan.notes:
        print(note)
    return 0

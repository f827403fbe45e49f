"""``python -m agentactors`` and the ``agentactors`` console script.

``serve`` runs the server (the HTTP server inside this process's trio run, with the actors);
``repl --url`` attaches to a running server's debug console; ``ask``, ``list`` and
``reply`` are HTTP clients of a running server (:mod:`agentactors._cli_client`); ``hook``
is an agent's command hook (:mod:`agentactors._cli_hook`, parsed alone: an agent starts it
for every tool call), ``install`` connects an agent (:mod:`agentactors._cli_install`) and
``watch`` answers requests in the terminal (:mod:`agentactors._cli_watch`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from agentactors import _cli_hook, _cli_install
from agentactors._cli_signals import INTERRUPTED

WORKERS_REFUSED = (
    "--workers {n}: refused. agentactors keeps every service as one named actor in one "
    "process; several worker processes would each hold their own permission service, and a "
    "reply reaching one would never release a request parked in another. Run one process "
    "(the default), or share the services on a Ray cluster: --cluster ADDRESS."
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="agentactors", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=4096, help="port (default 4096; 0: any)")
    serve.add_argument("--directory", default=None, help="the server's directory (default: cwd)")
    serve.add_argument("--config", default=None, help="a TOML config file (last layer)")
    serve.add_argument(
        "--data-dir", default=None, help="SQLite state (default: user data dir; :memory:)"
    )
    serve.add_argument("--repl", action="store_true", help="open the debug console")
    serve.add_argument(
        "--cors", nargs="+", default=[], metavar="ORIGIN", help="extra allowed origins"
    )
    serve.add_argument(
        "--certfile", default=None, help="TLS certificate chain (PEM); also enables HTTP/2"
    )
    serve.add_argument("--keyfile", default=None, help="TLS private key (PEM)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="serve processes (more than 1 only with --cluster: one port each, from --port)",
    )
    serve.add_argument(
        "--cluster",
        default=None,
        metavar="ADDRESS",
        help="share the services on a Ray cluster (ray start --head; auto: this machine's)",
    )
    serve.add_argument(
        "--cpu",
        type=int,
        default=None,
        help="pin the server to this CPU (trade-offs: design/performance.md)",
    )
    serve.set_defaults(run=_cmd_serve)

    repl = commands.add_parser("repl", help="attach to a running server's debug console")
    repl.add_argument(
        "--url", default="http://127.0.0.1:4096", help="the server (default 127.0.0.1:4096)"
    )
    repl.set_defaults(run=_cmd_repl)
    from agentactors._cli_client import add_commands  # noqa: PLC0415 - see main()
    from agentactors._cli_watch import add_command as add_watch  # noqa: PLC0415 - as above

    add_commands(commands)  # ask, list, reply
    _cli_hook.add_command(commands)
    _cli_install.add_command(commands)
    add_watch(commands)
    return top


def _cmd_serve(args: argparse.Namespace) -> int:
    # the HTTP stack (quart, hypercorn) loads for the commands that serve or attach only:
    # it is most of a start, and ask, list and reply are run once per question
    from agentactors.http import Settings, StartRefused, run  # noqa: PLC0415 - see above
    from agentactors.model import ConfigError  # noqa: PLC0415 - see main()
    from agentactors.policy import load_config  # noqa: PLC0415 - see main()

    if args.workers != 1 and not (args.cluster and args.workers > 1):
        print(WORKERS_REFUSED.format(n=args.workers), file=sys.stderr)
        return 2
    if args.workers > 1:
        from agentactors._cli_workers import run_workers  # noqa: PLC0415 - as above

        return run_workers(args.argv, args.workers, args.port)
    try:
        config = load_config(args.config)
        settings = Settings.from_env(
            host=args.host,
            port=args.port,
            directory=os.path.abspath(args.directory or _current_directory()),
            cors=tuple(args.cors),
            data_dir=args.data_dir,
            repl=args.repl,
            cpu=args.cpu,
            certfile=args.certfile,
            keyfile=args.keyfile,
            cluster=args.cluster,
        )
        settings.check()
    except (ConfigError, StartRefused) as exc:
        print(f"agentactors: {exc}", file=sys.stderr)
        return 2
    return run(settings, config, announce=lambda line: print(line, flush=True))


def _current_directory() -> str:
    from agentactors.http import StartRefused  # noqa: PLC0415 - as in _cmd_serve

    try:
        return os.getcwd()
    except OSError as exc:
        gone = f"the current directory is gone ({exc.strerror}): pass --directory"
        raise StartRefused(gone) from None


def _cmd_repl(args: argparse.Namespace) -> int:
    from agentactors.http import attach  # noqa: PLC0415 - as in _cmd_serve

    return attach(args.url)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.  ``hook`` loads nothing of the
    other commands: an agent runs it for every tool call."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["hook"]:
        return _cli_hook.main(words[1:])
    args = parser().parse_args(words)
    args.argv = words
    try:
        status: int = args.run(args)
    except KeyboardInterrupt:  # before the command's own handling (start-up)
        print("agentactors: interrupted", file=sys.stderr)
        return INTERRUPTED
    return status


if __name__ == "__main__":
    sys.exit(main())

"""``serve --cluster ADDRESS --workers N``: N serve processes joining the same cluster.

Each is a ``python -m agentactors serve`` child with the same options, on its own port
(``--port``, ``--port``+1, ...; with ``--port 0`` each takes any free one), all sharing
the cluster's one ``permission`` service.  This process waits for them and passes its
SIGINT/SIGTERM on to each.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Sequence
from types import FrameType


def child_argv(argv: Sequence[str], port: int) -> list[str]:
    """``argv`` (of ``serve``) without ``--workers`` and ``--port``, then ``--port port``."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--workers", "--port"):
            skip = True
            continue
        if arg.startswith(("--workers=", "--port=")):
            continue
        out.append(arg)
    return [*out, "--port", str(port)]


def run_workers(argv: Sequence[str], workers: int, port: int) -> int:
    """Run ``workers`` serve processes and wait for them all; blocks.  Returns the
    worst exit status."""
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "agentactors", *child_argv(argv, port + i if port else 0)]
        )
        for i in range(workers)
    ]

    def forward(signum: int, _: FrameType | None) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    return max(child.wait() for child in children)

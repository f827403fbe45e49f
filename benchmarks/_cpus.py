"""Where the benchmarks run: the server on one CPU, the load generator on the others.

The server is one core's worth of Python (one GIL).  On this 2-core VM its threads
handing work to each other across the two cores cost ~60 % more CPU per cycle than on
one (cache lines and wake-up interrupts between vCPUs; design/performance.md), and the
load generator then competes with it for both.  So by default the figures are taken as
one would deploy it on a small machine: ``serve --cpu N`` on the last CPU, the load
generator pinned to the rest.  ``--unpinned`` (``PIN = False``) leaves both to the
scheduler; ``make bench`` also reports the HTTP cycle that way, beside the goals.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

PIN = True
"""Pin by default; ``python -m benchmarks --unpinned`` sets it False."""


def server_cpu() -> int | None:
    """The CPU for the server: the last one this process may use, or None when there
    is only one (or pinning is off or unsupported)."""
    if not PIN or not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return cpus[-1] if len(cpus) > 1 else None


@contextmanager
def pinned(cpus: set[int] | None) -> Iterator[None]:
    """Run the calling thread (and the threads it starts meanwhile) on ``cpus``; None:
    unchanged.  Restores the previous set after."""
    if not cpus or not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def client_cpus() -> set[int] | None:
    """The load generator's CPUs: all but the server's (None: unpinned)."""
    cpu = server_cpu()
    return None if cpu is None else set(os.sched_getaffinity(0)) - {cpu}


def one_cpu() -> set[int] | None:
    """An in-process run (trio and the actors in one process) on the server's CPU."""
    cpu = server_cpu()
    return None if cpu is None else {cpu}

"""The pinned runs: the server on one CPU, the load generator on the others.

The main figures leave every process to the scheduler, as a default ``serve`` runs.
The server is one core's worth of Python (one GIL), and ``serve --cpu N`` pins it; on
this 2-core VM that makes a lone cycle cheaper (its threads hand work to each other
without crossing cores) but leaves less room for the kernel and the actors' parallel
moments under load (design/performance.md has both).  So ``make bench`` also repeats
the latency and throughput figures pinned, in the rows marked "pinned".
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def server_cpu() -> int | None:
    """The CPU for a pinned server: the last one this process may use, or None when
    there is only one (or pinning is unsupported here)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return cpus[-1] if len(cpus) > 1 else None


def client_cpus() -> set[int] | None:
    """A pinned run's load generator: every CPU but the server's."""
    cpu = server_cpu()
    return None if cpu is None else set(os.sched_getaffinity(0)) - {cpu}


def one_cpu() -> set[int] | None:
    """A pinned in-process run (trio and the actors in one process): the server's CPU."""
    cpu = server_cpu()
    return None if cpu is None else {cpu}


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

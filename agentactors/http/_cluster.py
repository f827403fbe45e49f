"""``serve --cluster``: join the Ray cluster, or say why not (Ray loads only here)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from agentactors.policy import Config


def join_cluster(
    address: str, config: Config, data_dir: str
) -> tuple[str, Callable[[], None]] | None:
    """Join the cluster at ``address``; returns where the shared state lives and the
    function that leaves, or None after printing why it could not (Ray is not
    installed, no cluster there, the shared host cannot start).  Blocks while joining."""
    try:
        from agentactors.cluster import join  # noqa: PLC0415 - Ray loads only here
    except ImportError as exc:
        print(
            f"agentactors: --cluster needs Ray: pip install 'agentactors[ray]' ({exc})",
            file=sys.stderr,
        )
        return None
    try:
        cluster = join(address, config, data_dir)
    except Exception as exc:  # noqa: BLE001 - any failure to join is reported, not raised
        print(f"agentactors: cannot join the cluster at {address}: {exc}", file=sys.stderr)
        return None
    where = f"{cluster.database or ':memory:'} (the cluster's shared host, pid {cluster.host_pid})"
    return where, cluster.leave

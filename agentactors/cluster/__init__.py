"""Several ``serve`` processes sharing one ``permission`` service on a Ray cluster.

Imported only by ``serve --cluster``: without it Ray is never imported.  The names below
load Ray on first use (the host's own code, ``_host.py``, imports none of it).  See
``design/cluster.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._join import HOST, NAMESPACE, Cluster, join

__all__ = ["HOST", "NAMESPACE", "Cluster", "join"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import _join  # noqa: PLC0415 - Ray loads on first use only

        return getattr(_join, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

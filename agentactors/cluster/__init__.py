"""Several ``serve`` processes sharing one ``permission`` service on a Ray cluster.

Imported only by ``serve --cluster``: without it Ray is never imported.  See
``design/cluster.md``.
"""

from ._join import HOST, NAMESPACE, Cluster, join

__all__ = ["HOST", "NAMESPACE", "Cluster", "join"]

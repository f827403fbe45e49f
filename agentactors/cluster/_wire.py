"""What crosses between a ``serve`` process and the shared host: answers, errors, event
batches.  Plain pickled values (Ray's serialisation); no Ray import here.

Our exceptions take their fields as constructor arguments, which pickle does not replay
(it calls the class with ``args`` only), so an error travels as its class, ``args`` and
attributes and is rebuilt without calling its constructor.
"""

from __future__ import annotations

import pickle
from typing import Any

import attrs

from agentactors.model import Event, RuntimeFault

Packed = tuple[type[BaseException], tuple[Any, ...], dict[str, Any]]


def pack_error(exc: BaseException) -> Packed:
    """``exc`` as a picklable triple; an error that does not pickle becomes a
    :class:`RuntimeFault` naming it."""
    packed: Packed = (type(exc), exc.args, dict(vars(exc)))
    try:
        pickle.dumps(packed)
    except Exception:  # noqa: BLE001 - anything unpicklable is named instead
        fault = RuntimeFault(f"{type(exc).__name__}: {exc}")
        return (RuntimeFault, fault.args, dict(vars(fault)))
    return packed


def unpack_error(packed: Packed) -> BaseException:
    """The exception :func:`pack_error` packed, with its attributes."""
    cls, args, state = packed
    exc = cls.__new__(cls)
    BaseException.__init__(exc, *args)
    vars(exc).update(state)
    return exc


@attrs.frozen
class Batch:
    """Events of the shared bus after a position, for one process's event pump.

    ``incarnation`` names the host's life (it changes when Ray restarts it); ``last`` is
    the position to ask after next; ``dropped`` counts events the pump missed (they
    left the host's history before it asked), ``None`` if it cannot know (the host
    restarted since the pump's last batch).
    """

    incarnation: str
    last: int
    events: tuple[Event, ...] = ()
    dropped: int | None = 0

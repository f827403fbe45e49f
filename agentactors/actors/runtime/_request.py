"""What a message asks for, and how an answer that is not ready yet is given.

A :class:`Request` is a message that is answered: ``class GetSession(Request[Session])``
says that asking it answers a ``Session``, so ``call``/``acall`` of it are typed.  Any
other message is a notice: sent with ``tell``, never answered.

A handler whose answer depends on something that comes after it returns (a store
commit, a policy plugin's verdict, a human's decision) returns :class:`Later` with the
future the answer will complete; ``call``, ``acall`` and ``wait`` follow it within the
same timeout, so the caller gets the answer itself.  ``Later`` is the one way a service
answers later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from ._future import BridgeFuture

T = TypeVar("T")


class Request(Generic[T]):
    """A message answered with a ``T`` (subclass it with the answer type)."""

    __slots__ = ()


class Later(Generic[T]):
    """A handler's answer that is not ready yet: the caller waits on ``future`` instead."""

    __slots__ = ("future",)

    def __init__(self, future: BridgeFuture[T]) -> None:
        self.future = future

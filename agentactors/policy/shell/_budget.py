"""The cost bound of one full shell analysis (see ``_analysis`` and design/shell-matching.md).

tree-sitter's parse and the Python walk over its tree are fast for the commands agents
write, but some shapes cost far more (one long pipeline is quadratic in tree-sitter, a
deep nesting overflows the walk's recursion).  ``Budget`` bounds both: the CPU time of
the analysing thread (the parse is cancelled through tree-sitter's progress callback,
the walk checks the clock as it goes), the size of a parsed tree and the nesting of the
walk.  Exceeding any raises ``Refused``; ``_analysis`` then falls back to the plain
split of ``_split``.  CPU time, not wall time, so that a busy machine does not make
the same command opaque.
"""

from __future__ import annotations

import time
from typing import Final

import attrs
import tree_sitter

__all__ = ["CPU_SECONDS", "MAX_NESTING", "MAX_NODES", "Budget", "Refused"]

CPU_SECONDS: Final = 0.050  # CPU time one full analysis may take (its parses and walks)
MAX_NESTING: Final = 100  # nested statements and words the walk follows (recursion depth)
MAX_NODES: Final = 4_096  # nodes of one parsed tree the walk takes on
_UNTIMED_BYTES: Final = 512  # sources this short parse in well under a millisecond
_CHECK_EVERY: Final = 32  # walk steps between two looks at the clock


class Refused(Exception):
    """The full analysis stopped: ``args[0]`` says why, for the human asked."""


@attrs.define
class Budget:
    """What one analysis may still spend; shared by the walkers of its nested code."""

    deadline: float = attrs.Factory(lambda: time.thread_time() + CPU_SECONDS)
    nesting: int = 0
    steps: int = 0

    def step(self) -> None:
        """One more node walked; raises ``Refused`` once the CPU time is spent."""
        self.steps += 1
        if self.steps % _CHECK_EVERY == 0 and time.thread_time() > self.deadline:
            raise Refused(_TOO_LONG)

    def enter(self) -> None:
        """One level deeper (``leave`` when back); raises ``Refused`` past ``MAX_NESTING``."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise Refused(f"nested more than {MAX_NESTING} levels deep")
        self.step()

    def leave(self) -> None:
        self.nesting -= 1

    def parse(self, parser: tree_sitter.Parser, src: bytes) -> tree_sitter.Node:
        """The root of ``parser.parse(src)``.

        Raises ``Refused`` when the CPU time runs out (the parse is cancelled and the
        parser reset, so its next parse starts afresh) or the tree is over ``MAX_NODES``.
        """
        if len(src) <= _UNTIMED_BYTES:
            return parser.parse(src).root_node
        view = memoryview(src)
        deadline = self.deadline
        try:
            tree = parser.parse(
                lambda offset, _point: view[offset:],
                progress_callback=lambda _offset, _errors: time.thread_time() > deadline,
            )
        except ValueError:  # py-tree-sitter's answer to a cancelled parse
            parser.reset()
            raise Refused(_TOO_LONG) from None
        root = tree.root_node
        if root.descendant_count > MAX_NODES:
            raise Refused(f"more than {MAX_NODES} syntax nodes")
        return root


_TOO_LONG: Final = f"took more than {CPU_SECONDS * 1000:.0f} ms of CPU time to analyse"

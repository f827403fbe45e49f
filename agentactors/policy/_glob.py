"""An anchored glob matcher (``*`` any run, ``?`` one character) that never backtracks.

A pattern splits at its stars into pieces of fixed length (literals and ``?``).  The
first piece must start the text and the last must end it; each piece between is placed
at its leftmost fit after the one before.  Leftmost is always right: a piece has a fixed
length, so placing it earlier leaves more text, never less, for the pieces after it
(the greedy glob that resumes only at the last star, one piece at a time).  A match thus
costs at most one scan of the text per piece (``str.find``, or a quantifier-free regex
search for a piece with ``?``): O(len(text) x len(pattern)) at worst, about O(len(text))
in practice.  Every character, newlines included, is an ordinary character.  Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs

Matcher = Callable[[str], bool]
"""A compiled pattern: whether a whole text matches it."""


@attrs.frozen
class Piece:
    """A run without stars, of a fixed ``length``: its ``source`` and, when it has a
    ``?``, a ``regex`` of literals and ``.`` only (no quantifier, so a search tries each
    start once and never backtracks)."""

    source: str
    length: int
    regex: re.Pattern[str] | None

    @classmethod
    def parse(cls, source: str) -> Piece:
        if "?" not in source:
            return cls(source, len(source), None)
        body = "".join("." if char == "?" else re.escape(char) for char in source)
        return cls(source, len(source), re.compile(body, re.DOTALL))

    def fits(self, text: str, index: int) -> bool:
        """Whether the piece matches ``text`` at ``index``."""
        if self.regex is None:
            return text.startswith(self.source, index)
        return self.regex.match(text, index) is not None

    def find(self, text: str, start: int, end: int) -> int:
        """The least ``i >= start`` where the piece fits inside ``text[:end]``, or -1."""
        if self.regex is None:
            return text.find(self.source, start, end)
        found = self.regex.search(text, start, end)
        return -1 if found is None else found.start()


@attrs.frozen
class Glob:
    """A pattern with stars: ``head``, then ``middle`` each after a star, then ``tail``."""

    head: Piece
    middle: tuple[Piece, ...]
    tail: Piece

    def match(self, text: str) -> bool:
        """Whether ``text`` matches the whole pattern."""
        head, tail = self.head, self.tail
        tail_start = len(text) - tail.length
        if tail_start < head.length or not head.fits(text, 0) or not tail.fits(text, tail_start):
            return False
        position = head.length
        for piece in self.middle:
            found = piece.find(text, position, tail_start)
            if found < 0:
                return False
            position = found + piece.length
        return True


def compile_glob(pattern: str) -> Matcher:
    """``pattern`` compiled: the common shapes to a string method, the rest to a Glob."""
    pieces = pattern.split("*")
    if len(pieces) == 1:
        if "?" not in pattern:
            return pattern.__eq__
        piece = Piece.parse(pattern)
        return lambda text: len(text) == piece.length and piece.fits(text, 0)
    head, tail = pieces[0], pieces[-1]
    middle = tuple(Piece.parse(piece) for piece in pieces[1:-1] if piece)
    if not middle and "?" not in pattern:  # "*", "git *", "*.env", "/a/*/b"
        shortest = len(head) + len(tail)
        return lambda text: len(text) >= shortest and text.startswith(head) and text.endswith(tail)
    return Glob(Piece.parse(head), middle, Piece.parse(tail)).match

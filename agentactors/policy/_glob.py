"""An anchored glob matcher (``*`` any run, ``?`` one character) of bounded cost.

A pattern splits at its stars into pieces of fixed length (literals and ``?``).  The
first piece must start the text and the last must end it; each piece between is placed
at its leftmost fit after the one before.  Leftmost is always right: a piece has a fixed
length, so placing it earlier leaves more text, never less, for the pieces after it
(the greedy glob that resumes only at the last star, one piece at a time).  Every
character, newlines included, is an ordinary character.  Pure; never backtracks.

What one match costs, ``n`` the text's length, ``m`` a piece's:

- a piece without ``?`` is searched by ``str.find``: CPython's two-way search, O(n + m),
  for a piece of 100 characters or more in a text of 2,500 or more; otherwise a search
  that compares each window at most in full, O((n - m + 1) x m);
- a piece with ``?`` is a few literal *fragments* at fixed offsets, placed by a join:
  the longest fragment found by ``str.find``, the others compared there, O((n - m + 1)
  x m) at worst.  When that bound is not the lower, the join tries only a few places (a
  plain text is decided there) and the search goes bit-parallel (:class:`Bits`): one
  pass over the text per distinct character ``c`` of the piece gives the positions of
  ``c`` as the bits of an integer; a run of ``r`` equal characters in the piece then
  narrows the set of possible starts with O(log r) shifts and ANDs of n-bit integers.
  That is O(n x d + n x k / 30) machine-word operations for ``d`` distinct characters
  and ``k`` runs (at most ``m``), all inside CPython's integer code: never a loop over
  the text's characters in Python.

:meth:`Compiled.cost` states, before matching, a bound of that work in *units*: a unit
is about one character compared by C code, a Python-level call or step is :data:`CALL`
units.  So a caller can refuse a match it cannot afford (the decision budget of
:mod:`._rules`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Final

import attrs

Matcher = Callable[[str], bool]
"""A compiled pattern's test: whether a whole text matches it."""

CALL: Final = 150
"""Units of one Python-level call or step."""
_STEP: Final = 1_000  # units of one step of compiling (a piece, a fragment, a run)
_TWO_WAY_NEEDLE: Final = 100  # CPython's str.find is two-way (linear) from this needle
_TWO_WAY_TEXT: Final = 2_500  # and this haystack length
_TRIES: Final = 8  # places the join tries before a long search goes bit-parallel
_GROUP: Final = 127  # distinct characters mapped to ASCII codes in one pass
_RUNS = re.compile(r"\?+|(.)\1*", re.DOTALL)


def find_cost(length: int, needle: int) -> int:
    """Units a ``str.find`` of a ``needle``-character string in ``length`` may take."""
    windows = length - needle + 1
    if windows <= 0:
        return CALL
    if needle < _TWO_WAY_NEEDLE or length < _TWO_WAY_TEXT:
        return CALL + windows * needle + length // 8
    return CALL + 2 * (length + needle)


@attrs.frozen
class Piece:
    """A run without stars, of a fixed ``length``: its ``source`` and, when it has a
    ``?``, its literal ``fragments`` as (offset, text), the longest first."""

    source: str
    length: int
    literal: bool  # no "?"
    fragments: tuple[tuple[int, str], ...]
    bits: Bits | None  # the bit-parallel plan, for a searched piece with "?"

    @classmethod
    def parse(cls, source: str, searched: bool = False) -> Piece:
        """The piece ``source``; ``searched``: placed anywhere (between stars), which
        takes the bit-parallel plan when it has a ``?``."""
        if "?" not in source:
            return cls(source, len(source), True, ((0, source),), None)
        fragments: list[tuple[int, str]] = []
        offset = 0
        for fragment in source.split("?"):
            if fragment:
                fragments.append((offset, fragment))
            offset += len(fragment) + 1
        fragments.sort(key=lambda item: -len(item[1]))
        bits = Bits.of(source) if searched else None
        return cls(source, len(source), False, tuple(fragments), bits)

    @property
    def fit_cost(self) -> int:
        """Units of :meth:`fits`."""
        return CALL * (1 + len(self.fragments)) + self.length // 16

    def fits(self, text: str, index: int) -> bool:
        """Whether the piece matches ``text`` at ``index`` (``text`` long enough)."""
        if self.literal:
            return text.startswith(self.source, index)
        return all(text.startswith(fragment, index + at) for at, fragment in self.fragments)

    def search_cost(self, length: int, ascii: bool) -> int:
        """Units :meth:`find` may take in a text of ``length`` (``ascii``: all ASCII)."""
        if self.bits is None:
            return find_cost(length, self.length)
        join, tries = self._join_costs(length)
        return min(join, tries + self.bits.cost(length, ascii))

    def find(self, text: str, start: int, end: int) -> int:
        """The least ``i >= start`` where the piece fits inside ``text[:end]``, or -1.
        A piece with ``?`` must have been parsed ``searched``.

        With ``?``: the join alone when its bound is the lower; else the join for a few
        tries, then the bit-parallel search."""
        if self.bits is None:
            return text.find(self.source, start, end)
        last = end - self.length
        if last < start:
            return -1
        join, tries = self._join_costs(end - start)
        if join <= tries + self.bits.cost(end - start, text.isascii()):
            return self.join(text, start, last, last - start + 1)
        found = self.join(text, start, last, _TRIES)
        if found != -2:
            return found
        return self.bits.find(text, start, end)

    def _join_costs(self, length: int) -> tuple[int, int]:
        """Bounds of the join: to the end, and for :data:`_TRIES` tries."""
        windows = max(length - self.length + 1, 0)
        anchor = len(self.fragments[0][1]) if self.fragments else 0
        scan = CALL + find_cost(length, anchor)
        each = CALL * (1 + len(self.fragments)) + 2 * self.length
        return scan + windows * each, scan + _TRIES * each

    def join(self, text: str, start: int, last: int, tries: int) -> int:
        """The least start in ``[start, last]`` where every fragment is in place, or -1;
        -2 if ``tries`` places of the longest fragment did not decide."""
        if not self.fragments:
            return start if start <= last else -1
        (at, anchor), *others = self.fragments
        while start <= last:
            if not tries:
                return -2
            tries -= 1
            found = text.find(anchor, start + at, last + at + len(anchor))
            if found < 0:
                return -1
            start = found - at
            if all(text.startswith(fragment, start + offset) for offset, fragment in others):
                return start
            start += 1
        return -1


@attrs.frozen
class Bits:
    """A piece with ``?`` searched bit-parallel over the text.

    For a text window of ``n`` characters, the bit ``n - 1 - p`` of ``positions[c]`` says
    whether the window's character ``p`` is ``c`` (most significant first, as ``int(…,
    2)`` reads a string of ``0`` and ``1``).  A run of ``r`` characters ``c`` at offset
    ``o`` of the piece keeps the starts ``s`` where bit ``n - 1 - s - o`` of "``r``
    times ``c`` from here" is set, that is ``runs << o``; "``r`` times ``c``" doubles up
    from ``positions[c]`` (``a + b`` times: ``R(a) & (R(b) << a)``).  The starts that
    survive every run fit; the leftmost is the highest bit left.  The runs of the
    rarest character in the window go first, so a hopeless search stops early.
    """

    length: int
    runs: tuple[tuple[str, int, int], ...]  # (character, offset, length)
    operations: int  # the shifts and ANDs the runs take at most
    chars: tuple[str, ...]  # the distinct characters

    @classmethod
    def of(cls, source: str) -> Bits:
        runs = tuple(
            (run.group(1), run.start(), run.end() - run.start())
            for run in _RUNS.finditer(source)
            if run.group(1) is not None
        )
        lengths = {(char, size) for char, _, size in runs}
        operations = len(runs) + sum(2 * size.bit_length() for _, size in lengths)
        return cls(len(source), runs, operations, tuple(dict.fromkeys(c for c, _, _ in runs)))

    def cost(self, length: int, ascii: bool) -> int:
        """Units :meth:`find` may take in a window of ``length`` characters."""
        distinct = len(self.chars)
        groups = distinct // _GROUP + 1
        mapping = length // 4 if ascii else groups * (40 * length + 2_000)
        per_char = distinct * (4 * length + 1_000)
        return 3_000 + mapping + per_char + self.operations * (length // 16 + CALL)

    def find(self, text: str, start: int, end: int) -> int:
        """The least ``i >= start`` where the piece fits inside ``text[:end]``, or -1."""
        window = text[start:end]
        size = len(window)
        positions = _positions(window, self.chars)
        if positions is None:
            return -1  # a character of the piece is not in the window
        starts = ((1 << (size - self.length + 1)) - 1) << (self.length - 1)
        counts = {char: bits.bit_count() for char, bits in positions.items()}
        repeated: dict[tuple[str, int], int] = {}
        for char, offset, count in sorted(self.runs, key=lambda r: (counts[r[0]], -r[2])):
            bits = repeated.get((char, count))
            if bits is None:
                bits = repeated[char, count] = _repeated(positions[char], count)
            starts &= bits << offset
            if not starts:
                return -1
        return start + size - starts.bit_length()


def _positions(window: str, chars: tuple[str, ...]) -> dict[str, int] | None:
    """For each of ``chars``, the bits of its positions in ``window`` (the first
    character most significant); None if one of them is not in it."""
    if window.isascii():
        if not all(ord(char) < 128 for char in chars):
            return None
        data = window.encode("ascii")
        found = {char: int(data.translate(_one_hot(ord(char))), 2) for char in chars}
    else:
        present = set(window)
        if not present.issuperset(chars):
            return None
        found = {}
        for first in range(0, len(chars), _GROUP):
            group = chars[first : first + _GROUP]
            table = dict.fromkeys(map(ord, present), 0)
            table.update((ord(char), code) for code, char in enumerate(group, 1))
            data = window.translate(table).encode("ascii")
            for code, char in enumerate(group, 1):
                found[char] = int(data.translate(_one_hot(code)), 2)
    return found if all(found.values()) else None


@functools.cache
def _one_hot(code: int) -> bytes:
    """A ``bytes.translate`` table: byte ``code`` to ``1``, every other byte to ``0``."""
    return bytes(0x31 if byte == code else 0x30 for byte in range(256))


def _repeated(positions: int, count: int) -> int:
    """The bits of ``count`` equal characters in a row, from the bits of one."""
    result = 0
    taken = 0  # characters covered by ``result``
    power, span = positions, 1  # ``span`` characters in a row
    while True:
        if count & 1:
            result = power if not taken else result & (power << taken)
            taken += span
        count >>= 1
        if not count:
            return result
        power &= power << span
        span *= 2


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

    def cost(self, text: str) -> int:
        """Units :meth:`match` may take on ``text``."""
        length, ascii = len(text), text.isascii()
        return sum(piece.search_cost(length, ascii) for piece in self.middle)


@attrs.frozen
class Compiled:
    """A compiled pattern: ``match`` a text; it costs ``fixed`` units (the call
    included) plus, for a pattern with a piece between stars, ``scaled(text)``;
    compiling it cost about ``compile_cost``."""

    match: Matcher
    fixed: int
    scaled: Callable[[str], int] | None = None
    compile_cost: int = CALL

    def __call__(self, text: str) -> bool:
        return self.match(text)

    def cost(self, text: str) -> int:
        """Units matching ``text`` may take."""
        return self.fixed if self.scaled is None else self.fixed + self.scaled(text)


def _affix(head: str, tail: str) -> Matcher:
    """The test of ``head*tail``."""
    if not tail:
        return (lambda text: text.startswith(head)) if head else _anything
    if not head:
        return lambda text: text.endswith(tail)
    shortest = len(head) + len(tail)
    return lambda text: len(text) >= shortest and text.startswith(head) and text.endswith(tail)


def _anything(text: str) -> bool:
    return True


def compile_glob(pattern: str) -> Compiled:
    """``pattern`` compiled: the common shapes to a string method, the rest to a Glob."""
    pieces = pattern.split("*")
    scan = _STEP + len(pattern) // 2  # splitting and counting, in C
    if len(pieces) == 1:
        if "?" not in pattern:
            return Compiled(pattern.__eq__, CALL + len(pattern) // 16, None, scan)
        piece = Piece.parse(pattern)
        return Compiled(
            lambda text: len(text) == piece.length and piece.fits(text, 0),
            CALL + piece.fit_cost,
            None,
            scan + _STEP * (2 + len(piece.fragments)),
        )
    head, tail = pieces[0], pieces[-1]
    if "?" not in pattern and not any(pieces[1:-1]):  # "*", "git *", "*.env", "/a/*/b"
        return Compiled(_affix(head, tail), CALL + (len(head) + len(tail)) // 16, None, scan)
    middle = tuple(Piece.parse(piece, searched=True) for piece in pieces[1:-1] if piece)
    glob = Glob(Piece.parse(head), middle, Piece.parse(tail))
    steps = len(pieces) + pattern.count("?") + sum(len(p.bits.runs) for p in middle if p.bits)
    fixed = CALL + glob.head.fit_cost + glob.tail.fit_cost
    return Compiled(glob.match, fixed, glob.cost if middle else None, scan + _STEP * (4 + steps))

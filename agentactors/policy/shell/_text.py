"""Shell word decoding and text shown to humans.

Quote removal the way bash does it (``\\rm``, ``"rm"``, ``r''m``, ``$'\\x72m'`` are all
``rm``), whether an unquoted word may still be changed by pathname or brace expansion,
and ``display_text``: what an approver sees, with invisible and direction-control
characters made visible and long commands shortened in the middle, never at the end.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

MAX_DISPLAY_CHARS: Final = 2_000
_DISPLAY_HEAD: Final = 1_000
_DISPLAY_TAIL: Final = 800

_UNQUOTED_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_DOUBLE_QUOTED_ESCAPE = re.compile(r'\\([$`"\\\n])')
_ANSI_C_ESCAPE = re.compile(
    r"\\(?:([abeEfnrtv\\'\"?])|([0-7]{1,3})|x([0-9a-fA-F]{1,2})|u([0-9a-fA-F]{1,4})"
    r"|U([0-9a-fA-F]{1,8})|c(.)|(.))",
    re.DOTALL,
)
_ANSI_C_SIMPLE: Final = {
    "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r",
    "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?",
}  # fmt: skip
_ESCAPED_CHAR = re.compile(r"\\.", re.DOTALL)
_PATTERN_CHAR = re.compile(r"[*?\[{]")
_NOT_PLAIN = re.compile(r"[^\x20-\x7e\n\t]")
# invisible although not in a "format" or "control" category
_INVISIBLE: Final = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u2800\u3164\uffa0"
)


def unescape_unquoted(raw: str) -> str:
    """Quote removal for an unquoted word: ``\\c`` is ``c``, backslash-newline vanishes."""
    if "\\" not in raw:
        return raw
    return _UNQUOTED_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), raw)


def unescape_double_quoted(raw: str) -> str:
    """Quote removal inside ``"…"``: only ``\\$ \\` \\" \\\\`` and backslash-newline."""
    if "\\" not in raw:
        return raw
    return _DOUBLE_QUOTED_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), raw)


def _ansi_c_one(match: re.Match[str]) -> str:
    simple, octal, hex2, uni4, uni8, control, other = match.groups()
    if simple is not None:
        return _ANSI_C_SIMPLE[simple]
    if control is not None:
        return chr(ord(control) & 0x1F)
    if other is not None:
        return "\\" + other
    digits, base = next((d, b) for d, b in ((octal, 8), (hex2, 16), (uni4, 16), (uni8, 16)) if d)
    code = int(digits, base)
    if octal is not None:
        code &= 0xFF
    return chr(code) if code <= 0x10FFFF else "\ufffd"


def decode_ansi_c(body: str) -> str:
    """The value of ``$'body'``; bash stops the string at a NUL (``\\0``, ``\\x00``)."""
    value = _ANSI_C_ESCAPE.sub(_ansi_c_one, body)
    return value.partition("\x00")[0]


def has_unquoted_pattern(raw: str) -> bool:
    """Whether an unquoted word has glob (``* ? [..]``) or brace (``{a,b}``, ``{1..3}``) parts."""
    if _PATTERN_CHAR.search(raw) is None:
        return False
    text = _ESCAPED_CHAR.sub("", raw)
    if "*" in text or "?" in text:
        return True
    opening = text.find("[")
    if opening != -1 and "]" in text[opening + 1 :]:
        return True
    brace = text.find("{")
    return brace != -1 and "}" in text[brace:] and ("," in text or ".." in text)


def _needs_escape(char: str) -> bool:
    if char in _INVISIBLE:
        return True
    category = unicodedata.category(char)
    if category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
        return True
    if category == "Zs":
        return char != " "
    # variation selectors
    return "\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef"


def _visible(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        char = match.group()
        return f"<U+{ord(char):04X}>" if _needs_escape(char) else char

    return _NOT_PLAIN.sub(replace, text)


def display_text(text: str) -> str:
    """``text`` made safe to show a human approver.

    Direction-control (U+202A-202E, U+2066-2069, U+200E/F, U+061C), zero-width (U+200B-200D,
    U+2060, U+FEFF), other format and control characters (except newline and tab), unusual
    spaces and other invisible characters are shown as ``<U+XXXX>``, never dropped.  Text
    over ``MAX_DISPLAY_CHARS`` keeps its first 1,000 and last 800 characters with a marker
    saying how many were left out: the tail, where a dangerous part hides, is always shown.
    Never raises.
    """
    if len(text) <= MAX_DISPLAY_CHARS:
        return _visible(text)
    omitted = len(text) - _DISPLAY_HEAD - _DISPLAY_TAIL
    return (
        _visible(text[:_DISPLAY_HEAD])
        + f"\n… [{omitted} characters not shown] …\n"
        + _visible(text[-_DISPLAY_TAIL:])
    )

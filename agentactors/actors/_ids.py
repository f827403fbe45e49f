"""Prefixed, sortable ids: ``ses_``, ``per_``, ``evt_``, ``apr_`` plus 26 characters.

The 26 characters are a ULID (48-bit millisecond time + 80 random bits, Crockford
base32).  Within one millisecond the random part is incremented, so ids made by one
process sort in creation order.  Thread-safe; never blocks beyond a short lock.
"""

from __future__ import annotations

import re
import secrets
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_lock = threading.Lock()
_last_ms = -1
_last_rand = 0

PREFIXES = ("ses", "per", "evt", "apr", "msg")
_ID_RE = re.compile(r"^(?P<prefix>[a-z]{3})_[0-9A-HJKMNP-TV-Z]{26}$")


_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # 10 bits -> 2 characters
_last_time = ""  # the 10 characters of _last_ms
_last_high = -1  # _last_rand >> 10, and its 14 characters (a count-up changes the last 2)
_last_high_text = ""


def _encode(value: int) -> str:
    """26 Crockford base32 characters of a 128-bit value (130 bits, two leading zeros)."""
    return _encode_bits(value, 26)


def _encode_bits(value: int, chars: int) -> str:
    """``chars`` (even) Crockford base32 characters of ``value``, 10 bits per lookup."""
    pairs = _PAIRS
    return "".join([pairs[(value >> shift) & 1023] for shift in range(5 * chars - 10, -1, -10)])


def new_id(prefix: str) -> str:
    """A new id ``<prefix>_<ulid>``, greater than every id this process made before."""
    global _last_ms, _last_rand, _last_time, _last_high, _last_high_text  # noqa: PLW0603 - the monotonic state is process-wide
    with _lock:
        now = time.time_ns() // 1_000_000
        if now <= _last_ms:
            _last_rand = (_last_rand + 1) % (1 << _RANDOM_BITS)
        else:
            _last_ms = now
            _last_time = _encode_bits(now, 10)  # 48 bits of milliseconds (50 encoded)
            _last_rand = secrets.randbits(_RANDOM_BITS - 1)  # room to count up
        high = _last_rand >> 10
        if high != _last_high:
            _last_high = high
            _last_high_text = _encode_bits(high, 14)
        return f"{prefix}_{_last_time}{_last_high_text}{_PAIRS[_last_rand & 1023]}"


def is_id(value: object, prefix: str) -> bool:
    """Whether ``value`` is a well-formed id with this prefix."""
    if not isinstance(value, str):
        return False
    match = _ID_RE.match(value)
    return match is not None and match["prefix"] == prefix

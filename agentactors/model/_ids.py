"""Prefixed, sortable ids: ``ses_``, ``per_``, ``evt_``, ``apr_`` plus 26 characters.

The 26 characters are a ULID (48-bit millisecond time + 80 random bits, Crockford
base32).  Within one millisecond the random part is incremented, so ids made by one
process sort in creation order.  Thread-safe; never blocks beyond a short lock.
"""

from __future__ import annotations

import os
import re
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_lock = threading.Lock()
_last_ms = -1
_last_rand = 0

PREFIXES = ("ses", "per", "evt", "apr", "msg")
_ID_RE = re.compile(r"^(?P<prefix>[a-z]{3})_[0-9A-HJKMNP-TV-Z]{26}$")


_POOL_DRAWS = 256
_pool: list[int] = []  # pre-drawn random parts (79 bits: room to count up)


def _fresh_random() -> int:
    """79 random bits from the OS, drawn 256 at a time: ``os.urandom`` releases the GIL,
    and getting it back could wait for a busy actor thread (up to the switch interval)."""
    try:
        return _pool.pop()
    except IndexError:
        pass
    big = int.from_bytes(os.urandom(10 * _POOL_DRAWS), "big")
    mask = (1 << (_RANDOM_BITS - 1)) - 1
    values = [(big >> (_RANDOM_BITS * i)) & mask for i in range(_POOL_DRAWS)]
    _pool.extend(values[1:])
    return values[0]


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
    now = time.time_ns() // 1_000_000
    # Drawn outside the lock: a refill of the pool releases the GIL, and a holder of _lock
    # waiting for the GIL back would stall every other thread's new_id.  _last_ms only
    # grows, so a new millisecond seen in the lock was already new here.
    fresh = _fresh_random() if now > _last_ms else 0
    with _lock:
        if now <= _last_ms:
            _last_rand = (_last_rand + 1) % (1 << _RANDOM_BITS)
        else:
            _last_ms = now
            _last_time = _encode_bits(now, 10)  # 48 bits of milliseconds (50 encoded)
            _last_rand = fresh
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

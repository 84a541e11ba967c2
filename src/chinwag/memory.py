"""Giving memory back to the operating system after a burst of connections has gone.

A client connection's buffers (frames waiting for it, what its socket has not sent) are tens of
kilobytes each, below the C allocator's threshold for mapping memory of their own, so glibc
carves them out of its heap. When a thousand such connections close, their memory is free but
scattered through the heap, and glibc keeps it: the process's resident memory stays at its
peak. ``malloc_trim`` hands every free page back. The gateway calls :func:`release_free_memory`
after connections closed (at most every :data:`INTERVAL` seconds); elsewhere than glibc it does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

#: seconds between two trims, at most (a trim walks the heap: a few milliseconds)
INTERVAL = 10.0


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release_free_memory() -> bool:
    """Return the allocator's free pages to the operating system; whether any were."""
    return bool(_TRIM(0)) if _TRIM is not None else False

"""``chinwag.memory``: freed memory goes back to the system (glibc), or nothing happens."""

from __future__ import annotations

import platform

import pytest

from chinwag import memory

pytestmark = pytest.mark.unit


def test_free_memory_is_returned_on_glibc() -> None:
    held = [bytes(80_000) for _ in range(2000)]  # 160 MB of heap chunks below mmap's threshold
    del held
    released = memory.release_free_memory()
    assert released is (platform.libc_ver()[0] == "glibc")

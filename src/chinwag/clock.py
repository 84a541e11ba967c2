"""Time as an injectable dependency.

Timestamps are integer milliseconds since the epoch throughout: portable across SQLite and
PostgreSQL, ordered, cheap to compare, and precise enough for webhook dates that carry
milliseconds. Rendering to Twilio's ``YYYY-MM-DDTHH:MM:SSZ`` happens at the HTTP edge.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Current time in integer milliseconds since the Unix epoch (UTC)."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class FakeClock:
    """A clock that only moves when told to; for tests of dates and, later, webhook retries."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += int(seconds * 1000)

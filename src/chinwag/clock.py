"""Time as an injectable dependency.

Timestamps are integer milliseconds since the epoch throughout: portable across SQLite and
PostgreSQL, ordered, cheap to compare, and precise enough for webhook dates that carry
milliseconds. Rendering to Twilio's ``YYYY-MM-DDTHH:MM:SSZ`` happens at the HTTP edge.

Whatever waits for a moment on this clock (the webhook dispatcher waiting for a retry to fall
due) sleeps on the clock too, so a test that advances a :class:`FakeClock` wakes it at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Current time in integer milliseconds since the Unix epoch (UTC)."""
        ...

    async def sleep_until(self, when_ms: int) -> None:
        """Return once :meth:`now_ms` has reached ``when_ms`` (at once if it has)."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    async def sleep_until(self, when_ms: int) -> None:
        delay = (when_ms - self.now_ms()) / 1000
        if delay > 0:
            await asyncio.sleep(delay)


class FakeClock:
    """A clock that only moves when told to; for tests of dates and webhook retries.

    :meth:`advance` may be called from any thread (a test driving a server that runs its event
    loop in another thread): it wakes every sleeper whose moment has come, on that sleeper's
    own loop.
    """

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now = start_ms
        self._lock = threading.Lock()
        self._sleepers: list[tuple[int, asyncio.Future[None]]] = []

    def now_ms(self) -> int:
        return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += int(seconds * 1000)
            due = [s for s in self._sleepers if s[0] <= self._now]
            self._sleepers = [s for s in self._sleepers if s[0] > self._now]
        for _, future in due:
            future.get_loop().call_soon_threadsafe(_resolve, future)

    async def sleep_until(self, when_ms: int) -> None:
        sleeper = (when_ms, asyncio.get_running_loop().create_future())
        with self._lock:
            if when_ms <= self._now:
                return
            self._sleepers.append(sleeper)
        try:
            await sleeper[1]
        finally:
            with self._lock:
                if sleeper in self._sleepers:
                    self._sleepers.remove(sleeper)


class ControllableClock:
    """System time plus an offset that the control API sets or advances (``--clock
    controllable``), so a test against a running server can make tokens expire or webhook
    retries fall due without waiting.

    It starts as system time and keeps running at its pace; :meth:`set` and :meth:`advance`
    move it and wake every sleeper so it measures its wait again.
    """

    def __init__(self) -> None:
        self._offset_ms = 0
        self._lock = threading.Lock()
        self._wakers: set[asyncio.Future[None]] = set()

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self._offset_ms

    def set(self, now_ms: int) -> None:
        """Jump to ``now_ms`` (forwards or backwards)."""
        self._move(now_ms - time.time_ns() // 1_000_000)

    def advance(self, delta_ms: int) -> None:
        self._move(self._offset_ms + delta_ms)

    def follow_system(self) -> None:
        """Back to system time (a reset between tests starts every test from now)."""
        self._move(0)

    def _move(self, offset_ms: int) -> None:
        with self._lock:
            self._offset_ms = offset_ms
            wakers, self._wakers = self._wakers, set()
        for future in wakers:
            future.get_loop().call_soon_threadsafe(_resolve, future)

    async def sleep_until(self, when_ms: int) -> None:
        while (delay_ms := when_ms - self.now_ms()) > 0:
            waker = asyncio.get_running_loop().create_future()
            with self._lock:
                self._wakers.add(waker)
            try:
                await asyncio.wait({waker}, timeout=delay_ms / 1000)
            finally:
                with self._lock:
                    self._wakers.discard(waker)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # a sleeper cancelled meanwhile
        future.set_result(None)

"""This process's part of reachability: which users it holds, and that it is alive.

The gateway reports each user's first connection opening and last one closing here
(:meth:`Presence.opened`, :meth:`Presence.closed`); one task writes the changes to the
database in order (``domain/reachability.py``), retrying a user whose write failed every
:data:`RETRY` seconds, so a database outage delays reachability but never leaves it wrong once
the database is back. Another task renews the process's heartbeat every ``interval`` seconds
(valid for :data:`TTL_BEATS` intervals) and sweeps processes whose heartbeat expired: a killed
process's users go offline within ``TTL_BEATS + 1`` intervals. A clean shutdown takes this
process's users offline at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import Counter

from chinwag.domain import reachability
from chinwag.domain.deps import Deps

log = logging.getLogger(__name__)

#: a heartbeat is valid for this many intervals (one missed beat is not death)
TTL_BEATS = 3
#: seconds before a failed write of a user's reachability is tried again
RETRY = 1.0

UserKey = tuple[str, str]  # service SID, identity


class Presence:
    def __init__(self, deps: Deps, interval: float) -> None:
        self.deps = deps
        self.interval = interval
        self.process_id = "PR" + os.urandom(16).hex()
        self._counts: Counter[UserKey] = Counter()
        self._dirty: dict[UserKey, None] = {}  # users to write, in order
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def opened(self, service_sid: str, identity: str) -> None:
        """A connection of this user was admitted here."""
        key = (service_sid, identity)
        self._counts[key] += 1
        if self._counts[key] == 1:
            self._mark(key)

    def closed(self, service_sid: str, identity: str) -> None:
        """An admitted connection of this user closed."""
        key = (service_sid, identity)
        self._counts[key] -= 1
        if self._counts[key] <= 0:
            del self._counts[key]
            self._mark(key)

    def _mark(self, key: UserKey) -> None:
        self._dirty.pop(key, None)
        self._dirty[key] = None
        self._wake.set()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._write_forever()), loop.create_task(self._beat())]

    async def stop(self) -> None:
        """Stop, and take this process's users offline."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        try:
            await reachability.forget_process(self.deps, self.process_id)
        except Exception:  # the sweep of another process (or the next start) will do it
            log.warning("could not take this process's users offline", exc_info=True)

    async def _write_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._dirty:
                key = next(iter(self._dirty))
                del self._dirty[key]
                if not await self._write(key):
                    self._dirty.setdefault(key, None)
                    await asyncio.sleep(RETRY)

    async def _write(self, key: UserKey) -> bool:
        service_sid, identity = key
        try:
            if key in self._counts:
                await reachability.user_connected(self.deps, self.process_id, service_sid, identity)
            else:
                await reachability.user_disconnected(
                    self.deps, self.process_id, service_sid, identity
                )
        except Exception:
            log.warning("could not record the reachability of %s", identity, exc_info=True)
            return False
        return True

    async def _beat(self) -> None:
        ttl_ms = int(self.interval * TTL_BEATS * 1000)
        while True:
            try:
                if not await reachability.heartbeat(self.deps, self.process_id, ttl_ms):
                    for key in self._counts:  # swept as dead meanwhile: write them again
                        self._mark(key)
            except Exception:
                log.warning("presence heartbeat failed", exc_info=True)
            await asyncio.sleep(self.interval)

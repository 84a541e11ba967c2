"""The SQLite WAL checkpointer: keeps the WAL short without ever checkpointing in a request."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Checkpointer:
    """Keeps the WAL short without ever checkpointing inside a request.

    SQLite's automatic checkpoint runs inside whichever COMMIT crosses 1000 WAL pages: on the
    event loop, stalling every in-flight request for the checkpoint's two fsyncs, every few
    hundred message creates. Here a task checkpoints on its own connection, in a worker
    thread, after every ``EVERY`` committed writes and every ``interval`` seconds that saw one,
    in two steps:

    1. PASSIVE, while writers carry on: copies nearly all WAL pages into the database file.
    2. RESTART, with this process's writes held back (``writes_open`` cleared; reads and
       everything else on the event loop carry on): copies the few pages committed meanwhile,
       and the next write starts the WAL again from its beginning.

    Step 2 is what keeps the WAL bounded: under a steady stream of commits a PASSIVE checkpoint
    never finds the WAL fully copied, SQLite never restarts it, and it grows without bound,
    slowing every commit.
    """

    #: units of work (committed writes) between checkpoints. Each cycle holds writes back for
    #: a moment (step 2, two fsyncs), so fewer, longer cycles cost less (docs/performance.md
    #: has the figures that chose it); message creates at full speed reach ``interval`` first.
    EVERY = 2000
    #: how long step 2 may wait for other processes' writers and readers before it gives up
    #: until the next cycle: every process's writes wait while it runs, so it is kept short
    #: and a cycle that gives up costs only a later restart (docs/performance.md)
    BUSY_TIMEOUT_MS = 20

    def __init__(
        self,
        path: str,
        synchronous: str,
        writes_open: asyncio.Event,
        writes_idle: Callable[[], Awaitable[None]],
        interval: float = 0.5,
    ) -> None:
        self._path = path
        self._writes_open = writes_open
        self._writes_idle = writes_idle
        self._synchronous = synchronous
        self._interval = interval
        self._units = 0
        self._wake = asyncio.Event()
        self._stopping = False
        self._conn: sqlite3.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={self.BUSY_TIMEOUT_MS}")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")  # the fsyncs a checkpoint makes
        self._conn = conn
        self._task = asyncio.create_task(self._run(), name="chinwag-checkpoint")

    async def stop(self) -> None:
        """Let a running checkpoint finish (never abandon one in its thread), then close."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._conn is not None:
            self._conn.close()

    def committed(self, units: int) -> None:
        """Called after each COMMIT of ``units`` units of work: a counter, and an Event every
        EVERY units."""
        self._units += units
        if self._units >= self.EVERY:
            self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            if self._stopping or not self._units:
                continue
            self._units = 0
            try:
                await asyncio.to_thread(self._checkpoint, "PASSIVE")
                await self._restart()
            except sqlite3.Error:
                log.warning("WAL checkpoint failed; will retry", exc_info=True)

    async def _restart(self) -> None:
        # Held-back writers are all released at once by the Event.
        self._writes_open.clear()
        try:
            await self._writes_idle()
            await asyncio.to_thread(self._checkpoint, "RESTART")
        finally:
            self._writes_open.set()

    def _checkpoint(self, mode: str) -> None:
        assert self._conn is not None
        self._conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()

"""SQLite commit groups: write units of work that share one transaction and one COMMIT.

A COMMIT writes every changed page to the WAL: two ``pwrite`` calls per page, more than a
message create's statements themselves cost. Under load many requests reach the
database in the same turn of the event loop. They join the *pending* group; its task then waits
for the running group to end, takes SQLite's write lock (BEGIN IMMEDIATE, retried without
blocking the event loop while another process holds it) and lets the units run one after
another, each in a SAVEPOINT of its own; the last to finish COMMITs (docs/performance.md
gives the group sizes seen under load)::

    unit joins ──> pending group ──(running group ended; BEGIN IMMEDIATE)──> running group
                                                                                 │
      each unit: SAVEPOINT … RELEASE (or ROLLBACK TO) ──> last unit out: COMMIT ─┴─> ended

The write lock is held only while the units' statements run, not while the event loop serves
HTTP, so other processes (``--workers``) find it free most of the time. A unit that fails rolls
back to its savepoint alone. Each unit's scope exits only when its group has ended, so a 201
still means "committed"; if the group's transaction is lost (a failed COMMIT, a full disk),
every unit in it fails with 503.

A unit declared ``single_statement`` (a message create: the channel UPDATE and the message
INSERT) opens no savepoint: SAVEPOINT and RELEASE, and the copies of the pages the unit
changes that SQLite keeps to roll back to a savepoint, are a sizeable share of such a unit's
SQL. It fails before changing anything (its first statement found no channel, and a failed
statement undoes itself), so it still fails alone. Should it fail after changing rows (an
INSERT broke a constraint, an impossible SID collision), those rows cannot be undone alone:
the group's transaction is lost instead, every unit in it fails with 503, nothing commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from typing import Protocol

from chinwag.errors import DatabaseUnavailableError
from chinwag.storage.engines.wal import Checkpointer

log = logging.getLogger(__name__)


class CommitGroup:
    """One group of write units: how many joined, and whether its transaction was lost."""

    __slots__ = ("changes", "ended", "error", "joined", "started", "task", "units")

    def __init__(self, groups: CommitGroups) -> None:
        self.joined = 0  # units that joined, for the checkpointer
        self.units = 0  # units that joined and have not finished
        #: the connection's change count when the running unit began, if it has no savepoint
        self.changes: int | None = None
        self.started = asyncio.Event()
        self.ended = asyncio.Event()
        #: why the group's changes were lost; None while they are (or once they are) committed
        self.error: BaseException | None = None
        # Created now, the task runs after every callback already queued on the event loop:
        # those requests join this group. (The reference keeps the task from being collected.)
        self.task = asyncio.get_running_loop().create_task(groups.run_group(self))

    async def wait(self) -> None:
        """Until the group has ended, even if the waiting task is cancelled.

        The unit's changes commit or not with the group whatever happens to its task, and the
        caller must learn which to run its after-commit hooks; a cancellation is passed on at
        the task's next await instead.
        """
        try:
            await self.ended.wait()
        except asyncio.CancelledError:
            await self.ended.wait()
            task = asyncio.current_task()
            assert task is not None
            task.cancel()

    def raise_error(self) -> None:
        if self.error is not None:
            raise DatabaseUnavailableError() from self.error


class Writer(Protocol):
    """What the groups use of the SQLite engine (``SqliteEngine`` provides it), declared here
    so the engine and its groups do not import each other."""

    @property
    def raw(self) -> sqlite3.Connection: ...

    @property
    def lock(self) -> asyncio.Lock: ...

    @property
    def writes_open(self) -> asyncio.Event: ...

    @property
    def busy_timeout_ms(self) -> int: ...

    @property
    def checkpointer(self) -> Checkpointer | None: ...


class CommitGroups:
    """The pending and the running group of one SQLite engine, and their life cycle."""

    __slots__ = ("_engine", "pending", "reads_waiting", "running")

    def __init__(self, engine: Writer) -> None:
        self._engine = engine
        self.pending: CommitGroup | None = None  # gathering units, not begun
        self.running: CommitGroup | None = None  # holds SQLite's write lock
        #: reads waiting for the running group to end (the engine counts them)
        self.reads_waiting = 0

    async def begin_unit(self, *, single: bool = False) -> CommitGroup:
        """Join the pending commit group, wait for it to start, then open a SAVEPOINT (for a
        ``single`` unit, note the connection's change count instead)."""
        engine = self._engine
        if not engine.writes_open.is_set():
            await engine.writes_open.wait()  # a checkpoint is restarting the WAL
        group = self.pending
        if group is None:
            group = self.pending = CommitGroup(self)
        group.joined += 1
        group.units += 1
        try:
            await group.started.wait()
            await engine.lock.acquire()
        except BaseException:
            self._unit_done(group)
            raise
        try:
            group.raise_error()  # BEGIN failed, or an earlier unit lost the transaction
            if single:
                group.changes = engine.raw.total_changes
            else:
                group.changes = None
                engine.raw.execute("SAVEPOINT unit")
        except BaseException:
            engine.lock.release()
            self._unit_done(group)
            raise
        return group

    async def end_unit(self, group: CommitGroup, error: BaseException | None) -> None:
        """Release the unit's savepoint (or roll back to it), then wait for the group's end."""
        raw = self._engine.raw
        try:
            changes = group.changes  # the unit still holds the lock: nobody changed it since
            if changes is not None:
                if error is not None and (not raw.in_transaction or raw.total_changes != changes):
                    self._lose(group, error)  # it changed rows (or SQLite rolled back): lost
            elif error is None:
                raw.execute("RELEASE unit")
            elif raw.in_transaction:
                try:
                    raw.execute("ROLLBACK TO unit")
                    raw.execute("RELEASE unit")
                except sqlite3.Error as exc:
                    self._lose(group, exc)  # the unit cannot be undone alone
            else:
                # SQLite rolled the whole transaction back (a full disk, an I/O error)
                self._lose(group, error)
        finally:
            self._engine.lock.release()
            self._unit_done(group)
        await group.wait()
        if error is None:
            group.raise_error()

    async def run_group(self, group: CommitGroup) -> None:
        """Start ``group`` once the running one has ended; its last unit commits it."""
        try:
            while True:
                if self.running is not None:
                    await self.running.ended.wait()
                elif self.reads_waiting:
                    # Reads woken by the last group's end go first: they take the engine lock
                    # before this group's BEGIN. Else a group created in the same turn as that
                    # end began first, every time, and under a steady stream of writes a read
                    # waited until writes paused (/healthz took up to half a second).
                    await asyncio.sleep(0)
                else:
                    break
            if group.units:  # else every unit gave up while it waited
                await self._begin(group)
        except DatabaseUnavailableError as exc:
            group.error = exc
        except BaseException as exc:
            group.error = exc  # its units must fail, not run outside a transaction
            raise
        finally:
            if self.pending is group:
                self.pending = None  # later units form the next group
            group.started.set()
            if self.running is not group:
                group.ended.set()  # it never began
            elif not group.units:
                self._finish(group)

    async def _begin(self, group: CommitGroup) -> None:
        """BEGIN IMMEDIATE for ``group``. While another process holds SQLite's write lock, retry
        every few ms for up to ``busy_timeout_ms`` (then 503), letting the event loop serve
        other requests meanwhile; SQLite's own busy handler would sleep on the event loop."""
        engine = self._engine
        raw = engine.raw
        deadline = time.monotonic() + engine.busy_timeout_ms / 1000
        delay = 0.0005
        while True:
            async with engine.lock:  # no read is half-way through
                raw.execute("PRAGMA busy_timeout=0")
                try:
                    raw.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() >= deadline:
                        raise DatabaseUnavailableError() from exc
                else:
                    self.running = group
                    return
                finally:
                    raw.execute(f"PRAGMA busy_timeout={int(engine.busy_timeout_ms)}")
            await asyncio.sleep(delay)
            delay = min(2 * delay, 0.005)

    def _unit_done(self, group: CommitGroup) -> None:
        group.units -= 1
        if not group.units and self.running is group:
            self._finish(group)

    def _finish(self, group: CommitGroup) -> None:
        """COMMIT ``group`` (unless it was lost); it has ended either way."""
        engine = self._engine
        try:
            if group.error is None:
                engine.raw.execute("COMMIT")
                if engine.checkpointer is not None:
                    engine.checkpointer.committed(group.joined)
        except sqlite3.Error as exc:
            log.warning("COMMIT of %d writes failed", group.joined, exc_info=True)
            self._lose(group, exc)
        finally:
            self.running = None
            group.ended.set()

    def _lose(self, group: CommitGroup, error: BaseException) -> None:
        """Give up ``group``'s transaction: its other units fail too (503)."""
        group.error = error
        raw = self._engine.raw
        if raw.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                raw.execute("ROLLBACK")

    async def writes_idle(self) -> None:
        """Wait until no commit group is pending or running. Callers first stop new units
        (``writes_open``); units that already joined a group run first."""
        while True:
            group = self.running or self.pending
            if group is None:
                return
            await group.ended.wait()

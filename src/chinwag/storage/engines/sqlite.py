"""The SQLite engine: the stdlib ``sqlite3`` driver on the event-loop thread, one connection.

That is several times faster per write than SQLAlchemy + aiosqlite (docs/performance.md),
because a statement costs microseconds while a thread hand-off costs tens. One connection also makes
SQLite's single-writer rule explicit; an ``asyncio.Lock`` keeps transactions from interleaving
should a store ever await real I/O inside one. Write transactions that start in the same turn
of the event loop share one COMMIT (see :mod:`chinwag.storage.engines.commit_groups`), and the
WAL is checkpointed outside requests (see :mod:`chinwag.storage.engines.wal`).

Durability: WAL with ``synchronous=NORMAL`` keeps every committed transaction across a process
kill; ``FULL`` also across power loss (configurable, see ``Settings.sqlite_synchronous``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Any

from chinwag.errors import DatabaseUnavailableError
from chinwag.storage.engines.base import Connection, PlainRow, Row, TransactionScope
from chinwag.storage.engines.commit_groups import CommitGroup, CommitGroups
from chinwag.storage.engines.wal import Checkpointer

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\$(\d+)")


#: SQLite failures of the environment, not of the statement: the disk is full, the file went
#: read-only or away, the write lock stayed busy. Clients get 503 and may retry; once the
#: cause is fixed the next request succeeds, without a restart.
_SQLITE_UNAVAILABLE = (
    "database or disk is full",
    "readonly database",
    "disk i/o error",
    "unable to open database",
    "database is locked",
)


def _sqlite_unavailable(exc: sqlite3.Error) -> bool:
    message = str(exc).lower()
    return any(fragment in message for fragment in _SQLITE_UNAVAILABLE)


class _SqliteConnection:
    __slots__ = ("_conn", "_plain", "_sql")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        # One cursor for every plain read: a result is always read in full at once, on the
        # event loop's thread, so no two reads ever share it.
        self._plain = conn.cursor()
        self._plain.row_factory = None
        self._sql: dict[str, str] = {}

    def _translate(self, sql: str) -> str:
        out = self._sql.get(sql)
        if out is None:
            out = self._sql[sql] = _PLACEHOLDER.sub(r"?\1", sql)
        return out

    def _run(
        self, sql: str, args: tuple[Any, ...], cursor: sqlite3.Cursor | None = None
    ) -> sqlite3.Cursor:
        try:
            if cursor is not None:
                return cursor.execute(self._translate(sql), args)
            return self._conn.execute(self._translate(sql), args)
        except sqlite3.OperationalError as exc:
            if _sqlite_unavailable(exc):
                raise DatabaseUnavailableError() from exc
            raise

    async def fetchone(self, sql: str, args: tuple[Any, ...]) -> Row | None:
        return self._run(sql, args).fetchone()

    async def fetchall(self, sql: str, args: tuple[Any, ...]) -> list[Row]:
        return self._run(sql, args).fetchall()

    async def fetchall_plain(self, sql: str, args: tuple[Any, ...]) -> list[PlainRow]:
        return self._run(sql, args, self._plain).fetchall()

    async def execute(self, sql: str, args: tuple[Any, ...]) -> int:
        return self._run(sql, args).rowcount


class _SqliteTransaction:
    """A write unit of work in a :class:`~.commit_groups.CommitGroup`, or a read.

    Reads wait while a group runs, so they never see changes that may yet fail to commit.
    """

    __slots__ = ("_engine", "_group", "_single", "_write")

    def __init__(self, engine: SqliteEngine, write: bool, single: bool) -> None:
        self._engine = engine
        self._write = write
        self._single = single
        self._group: CommitGroup | None = None

    async def __aenter__(self) -> Connection:
        engine = self._engine
        if self._write:
            self._group = await engine.groups.begin_unit(single=self._single)
        else:
            await engine.begin_read()
        return engine.conn

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        engine = self._engine
        if not self._write:
            engine.lock.release()
            return
        assert self._group is not None
        await engine.groups.end_unit(self._group, e)


class SqliteEngine:
    for_update = ""  # BEGIN IMMEDIATE already holds the database write lock
    single_statement_writes = False  # no UPDATE inside a WITH clause

    def __init__(
        self, path: str, *, synchronous: str = "NORMAL", busy_timeout_ms: int = 5000
    ) -> None:
        self.path = path
        self.synchronous = synchronous
        self.busy_timeout_ms = busy_timeout_ms
        self._raw: sqlite3.Connection | None = None
        self._conn: _SqliteConnection | None = None
        self._lock: asyncio.Lock | None = None
        self._writes_open: asyncio.Event | None = None
        self.groups = CommitGroups(self)
        self.checkpointer: Checkpointer | None = None

    @property
    def raw(self) -> sqlite3.Connection:
        assert self._raw is not None, "engine not open"
        return self._raw

    @property
    def conn(self) -> _SqliteConnection:
        assert self._conn is not None, "engine not open"
        return self._conn

    @property
    def lock(self) -> asyncio.Lock:
        assert self._lock is not None, "engine not open"
        return self._lock

    @property
    def writes_open(self) -> asyncio.Event:
        """Clear while the checkpointer restarts the WAL: write transactions wait for it."""
        assert self._writes_open is not None, "engine not open"
        return self._writes_open

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        raw = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        raw.row_factory = sqlite3.Row
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute(f"PRAGMA synchronous={self.synchronous}")
        raw.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
        self._raw = raw
        self._conn = _SqliteConnection(raw)
        self._lock = asyncio.Lock()
        self._writes_open = asyncio.Event()
        self._writes_open.set()
        if self.path != ":memory:":
            raw.execute("PRAGMA wal_autocheckpoint=0")
            raw.execute(f"PRAGMA journal_size_limit={64 * 1024 * 1024}")
            self.checkpointer = Checkpointer(
                self.path, self.synchronous, self._writes_open, self.groups.writes_idle
            )
            await self.checkpointer.start()

    async def close(self) -> None:
        if self.checkpointer is not None:
            await self.checkpointer.stop()
            self.checkpointer = None
        if self._raw is not None:
            await self.groups.writes_idle()
            try:
                self._raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                log.warning("final WAL checkpoint failed", exc_info=True)
            self._raw.close()
            self._raw = self._conn = None

    def transaction(self, *, write: bool, single: bool = False) -> TransactionScope:
        """``single``: the unit runs without a savepoint of its own (see
        :meth:`~.commit_groups.CommitGroups.begin_unit`)."""
        return _SqliteTransaction(self, write, single)

    async def begin_read(self) -> None:
        """Take the engine lock for a read, once no commit group is running. A read waits for
        at most the group running when it arrived, never for the groups that follow it
        (``CommitGroups.run_group`` lets waiting reads go first)."""
        groups = self.groups
        while True:
            group = groups.running
            if group is not None:
                groups.reads_waiting += 1
                try:
                    await group.ended.wait()
                finally:
                    groups.reads_waiting -= 1
                continue
            await self.lock.acquire()
            if groups.running is None:
                return
            self.lock.release()  # a group started while this waited for the lock

    def is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)

    def pool_stats(self) -> tuple[int, int, int]:
        return (0, 0, 1) if self._raw is None else (1, 0 if self.lock.locked() else 1, 1)

    def is_transient(self, exc: BaseException) -> bool:
        return False  # one writer at a time: no deadlocks; busy waits happen in BEGIN

    def is_schema_gone(self, exc: BaseException) -> bool:
        # a file restored or replaced under the server: its tables missing, or changed
        message = str(exc).lower() if isinstance(exc, sqlite3.Error) else ""
        return "no such table" in message or "database schema has changed" in message

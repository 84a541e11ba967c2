"""Database engines: the only home of dialect differences.

Stores write SQL once, with PostgreSQL-style ``$1`` placeholders; each engine adapts it.

PostgreSQL runs on asyncpg (chosen over psycopg 3 for its lower per-statement cost; see
docs/performance.md), with a connection pool per process. The
SQLite engine runs the stdlib ``sqlite3`` driver on the event-loop thread over one connection:
measured on this machine that is ~5x faster per write than SQLAlchemy + aiosqlite, because a
statement costs microseconds while a thread hand-off costs tens. One connection also makes
SQLite's single-writer rule explicit; an ``asyncio.Lock`` keeps transactions from interleaving
should a store ever await real I/O inside one. Write transactions that start in the same turn
of the event loop share one COMMIT (see :class:`_CommitGroup`).

Durability: WAL with ``synchronous=NORMAL`` keeps every committed transaction across a process
kill; ``FULL`` also across power loss (configurable, see ``Settings.sqlite_synchronous``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from chinwag.errors import DatabaseUnavailableError
from chinwag.storage import pg_url

log = logging.getLogger(__name__)

Row = Any  # sqlite3.Row here; asyncpg.Record on PostgreSQL. Both index by column name.


class Connection(Protocol):
    async def fetchone(self, sql: str, args: tuple[Any, ...]) -> Row | None: ...
    async def fetchall(self, sql: str, args: tuple[Any, ...]) -> list[Row]: ...
    async def execute(self, sql: str, args: tuple[Any, ...]) -> int: ...


class TransactionScope(Protocol):
    async def __aenter__(self) -> Connection: ...
    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class Engine(Protocol):
    dialect: str
    #: appended to a SELECT that reads a row it will change (row lock where the engine has them)
    for_update: str
    #: one statement may change several tables (a data-modifying CTE) and, run on its own, is
    #: its own transaction: see ``Database.run_statement``
    single_statement_writes: bool

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    def transaction(self, *, write: bool, implicit: bool = False) -> TransactionScope: ...
    def is_unique_violation(self, exc: BaseException) -> bool: ...
    def pool_stats(self) -> tuple[int, int, int]:
        """(open connections, idle connections, maximum), for metrics."""
        ...

    def is_transient(self, exc: BaseException) -> bool:
        """Whether the transaction was aborted for a reason a retry can overcome."""
        ...


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
    __slots__ = ("_conn", "_sql")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._sql: dict[str, str] = {}

    def _translate(self, sql: str) -> str:
        out = self._sql.get(sql)
        if out is None:
            out = self._sql[sql] = _PLACEHOLDER.sub(r"?\1", sql)
        return out

    def _run(self, sql: str, args: tuple[Any, ...]) -> sqlite3.Cursor:
        try:
            return self._conn.execute(self._translate(sql), args)
        except sqlite3.OperationalError as exc:
            if _sqlite_unavailable(exc):
                raise DatabaseUnavailableError() from exc
            raise

    async def fetchone(self, sql: str, args: tuple[Any, ...]) -> Row | None:
        return self._run(sql, args).fetchone()

    async def fetchall(self, sql: str, args: tuple[Any, ...]) -> list[Row]:
        return self._run(sql, args).fetchall()

    async def execute(self, sql: str, args: tuple[Any, ...]) -> int:
        return self._run(sql, args).rowcount


class _CommitGroup:
    """Write units of work that share one SQLite transaction and one COMMIT.

    A COMMIT writes every changed page to the WAL: two ``pwrite`` calls per page, about 25 µs
    for a message create, more than the statements themselves. Under load many requests reach
    the database in the same turn of the event loop. They join the *pending* group; its task
    then waits for the running group to end, takes SQLite's write lock (BEGIN IMMEDIATE,
    retried without blocking the event loop while another process holds it) and lets the
    units run one after another, each in a SAVEPOINT of its own; the last to finish COMMITs
    (measured: ~28 message creates per COMMIT at 64 concurrent clients).

    The write lock is held only while the units' statements run, not while the event loop
    serves HTTP, so other processes (``--workers``) find it free most of the time. A unit that
    fails rolls back to its savepoint alone. Each unit's scope exits only when its group has
    ended, so a 201 still means "committed"; if the group's transaction is lost (a failed
    COMMIT, a full disk), every unit in it fails with 503.
    """

    __slots__ = ("ended", "error", "joined", "started", "task", "units")

    def __init__(self, engine: SqliteEngine) -> None:
        self.joined = 0  # units that joined, for the checkpointer
        self.units = 0  # units that joined and have not finished
        self.started = asyncio.Event()
        self.ended = asyncio.Event()
        #: why the group's changes were lost; None while they are (or once they are) committed
        self.error: BaseException | None = None
        # Created now, the task runs after every callback already queued on the event loop:
        # those requests join this group. (The reference keeps the task from being collected.)
        self.task = asyncio.get_running_loop().create_task(engine._run_group(self))

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


class _SqliteTransaction:
    """A write unit of work in a :class:`_CommitGroup`, or a read.

    Reads wait while a group runs, so they never see changes that may yet fail to commit.
    """

    __slots__ = ("_engine", "_group", "_write")

    def __init__(self, engine: SqliteEngine, write: bool) -> None:
        self._engine = engine
        self._write = write
        self._group: _CommitGroup | None = None

    async def __aenter__(self) -> Connection:
        engine = self._engine
        if self._write:
            self._group = await engine.begin_unit()
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
        await engine.end_unit(self._group, e)


class _Checkpointer:
    """Keeps the WAL short without ever checkpointing inside a request.

    SQLite's automatic checkpoint runs inside whichever COMMIT crosses 1000 WAL pages: on the
    event loop, stalling every in-flight request for the checkpoint's two fsyncs (~5 ms about
    every 200 message creates). Here a task checkpoints on its own connection, in a worker
    thread, after every ``EVERY`` committed writes and every ``interval`` seconds that saw one,
    in two steps:

    1. PASSIVE, while writers carry on: copies nearly all WAL pages into the database file.
    2. RESTART, with this process's writes held back (``writes_open`` cleared; reads and
       everything else on the event loop carry on): copies the few pages committed meanwhile,
       and the next write starts the WAL again from its beginning.

    Step 2 is what keeps the WAL bounded: under a steady stream of commits a PASSIVE checkpoint
    never finds the WAL fully copied, SQLite never restarts it, and it grew by ~15 KB per
    message (900 MB in a 10 s benchmark, slowing every commit).
    """

    #: units of work (committed writes) between checkpoints. Each cycle holds writes back for
    #: a few ms (step 2, two fsyncs), so fewer, longer cycles cost less: before commit groups,
    #: 500 / 1,000 / 2,000 gave 7.9k / 8.0k / 8.2k creates/s and p99 44 / 34 / 16 ms.
    #: Message creates at full speed reach ``interval`` first: ~30 MB of WAL per cycle.
    EVERY = 2000
    #: how long step 2 may wait for other processes' writers and readers before it gives up
    #: until the next cycle: every process's writes wait while it runs (with 2 workers, 100 ms
    #: gave pauses up to 176 ms; 20 ms up to 116 ms, 4 of ~30 cycles gave up)
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


class SqliteEngine:
    dialect = "sqlite"
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
        self._pending: _CommitGroup | None = None  # gathering units, not begun
        self._running: _CommitGroup | None = None  # holds SQLite's write lock
        self.checkpointer: _Checkpointer | None = None

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
            self.checkpointer = _Checkpointer(
                self.path, self.synchronous, self._writes_open, self.writes_idle
            )
            await self.checkpointer.start()

    async def close(self) -> None:
        if self.checkpointer is not None:
            await self.checkpointer.stop()
            self.checkpointer = None
        if self._raw is not None:
            await self.writes_idle()
            try:
                self._raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                log.warning("final WAL checkpoint failed", exc_info=True)
            self._raw.close()
            self._raw = self._conn = None

    def transaction(self, *, write: bool, implicit: bool = False) -> TransactionScope:
        return _SqliteTransaction(self, write)

    async def begin_read(self) -> None:
        """Take the engine lock for a read, once no commit group is running."""
        while True:
            group = self._running
            if group is not None:
                await group.ended.wait()
                continue
            await self.lock.acquire()
            if self._running is None:
                return
            self.lock.release()  # a group started while this waited for the lock

    async def begin_unit(self) -> _CommitGroup:
        """Join the pending commit group, wait for it to start, then open a SAVEPOINT."""
        if not self.writes_open.is_set():
            await self.writes_open.wait()  # a checkpoint is restarting the WAL
        group = self._pending
        if group is None:
            group = self._pending = _CommitGroup(self)
        group.joined += 1
        group.units += 1
        try:
            await group.started.wait()
            await self.lock.acquire()
        except BaseException:
            self._unit_done(group)
            raise
        try:
            group.raise_error()  # BEGIN failed, or an earlier unit lost the transaction
            self.raw.execute("SAVEPOINT unit")
        except BaseException:
            self.lock.release()
            self._unit_done(group)
            raise
        return group

    async def end_unit(self, group: _CommitGroup, error: BaseException | None) -> None:
        """Release the unit's savepoint (or roll back to it), then wait for the group's end."""
        raw = self.raw
        try:
            if error is None:
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
            self.lock.release()
            self._unit_done(group)
        await group.wait()
        if error is None:
            group.raise_error()

    async def _run_group(self, group: _CommitGroup) -> None:
        """Start ``group`` once the running one has ended; its last unit commits it."""
        try:
            while self._running is not None:
                await self._running.ended.wait()
            if group.units:  # else every unit gave up while it waited
                await self._begin(group)
        except DatabaseUnavailableError as exc:
            group.error = exc
        except BaseException as exc:
            group.error = exc  # its units must fail, not run outside a transaction
            raise
        finally:
            if self._pending is group:
                self._pending = None  # later units form the next group
            group.started.set()
            if self._running is not group:
                group.ended.set()  # it never began
            elif not group.units:
                self._finish(group)

    async def _begin(self, group: _CommitGroup) -> None:
        """BEGIN IMMEDIATE for ``group``. While another process holds SQLite's write lock, retry
        every few ms for up to ``busy_timeout_ms`` (then 503), letting the event loop serve
        other requests meanwhile; SQLite's own busy handler would sleep on the event loop."""
        raw = self.raw
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        delay = 0.0005
        while True:
            async with self.lock:  # no read is half-way through
                raw.execute("PRAGMA busy_timeout=0")
                try:
                    raw.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() >= deadline:
                        raise DatabaseUnavailableError() from exc
                else:
                    self._running = group
                    return
                finally:
                    raw.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
            await asyncio.sleep(delay)
            delay = min(2 * delay, 0.005)

    def _unit_done(self, group: _CommitGroup) -> None:
        group.units -= 1
        if not group.units and self._running is group:
            self._finish(group)

    def _finish(self, group: _CommitGroup) -> None:
        """COMMIT ``group`` (unless it was lost); it has ended either way."""
        try:
            if group.error is None:
                self.raw.execute("COMMIT")
                if self.checkpointer is not None:
                    self.checkpointer.committed(group.joined)
        except sqlite3.Error as exc:
            log.warning("COMMIT of %d writes failed", group.joined, exc_info=True)
            self._lose(group, exc)
        finally:
            self._running = None
            group.ended.set()

    def _lose(self, group: _CommitGroup, error: BaseException) -> None:
        """Give up ``group``'s transaction: its other units fail too (503)."""
        group.error = error
        if self.raw.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.raw.execute("ROLLBACK")

    async def writes_idle(self) -> None:
        """Wait until no commit group is pending or running. Callers first stop new units
        (``writes_open``); units that already joined a group run first."""
        while True:
            group = self._running or self._pending
            if group is None:
                return
            await group.ended.wait()

    def is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)

    def pool_stats(self) -> tuple[int, int, int]:
        return (0, 0, 1) if self._raw is None else (1, 0 if self.lock.locked() else 1, 1)

    def is_transient(self, exc: BaseException) -> bool:
        return False  # one writer at a time: no deadlocks; busy waits happen in BEGIN


class _PostgresConnection:
    """asyncpg behind the store interface; statements are prepared and cached per connection."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def fetchone(self, sql: str, args: tuple[Any, ...]) -> Row | None:
        return await self._conn.fetchrow(sql, *args)

    async def fetchall(self, sql: str, args: tuple[Any, ...]) -> list[Row]:
        return list(await self._conn.fetch(sql, *args))

    async def execute(self, sql: str, args: tuple[Any, ...]) -> int:
        status: str = await self._conn.execute(sql, *args)
        count = status.rpartition(" ")[2]
        return int(count) if count.isdigit() else 0


class _PostgresTransaction:
    """A pooled connection for the scope; writes run in one READ COMMITTED transaction.

    Racing writers are ordered by row locks (``SELECT … FOR UPDATE`` and the counter UPDATEs
    on parent rows), never by read-then-write in the application.
    """

    __slots__ = ("_conn", "_engine", "_txn", "_write")

    def __init__(self, engine: PostgresEngine, write: bool) -> None:
        self._engine = engine
        self._write = write
        self._conn: Any = None
        self._txn: Any = None

    async def __aenter__(self) -> Connection:
        try:
            self._conn = await self._engine.pool.acquire()
        except _connection_errors() as exc:
            raise DatabaseUnavailableError() from exc
        if self._write:
            try:
                self._txn = self._conn.transaction()
                await self._txn.start()
            except BaseException:
                await self._engine.pool.release(self._conn)
                raise
        return _PostgresConnection(self._conn)

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        lost = _connection_errors()
        try:
            if self._txn is not None:
                if et is None:
                    await self._txn.commit()
                else:
                    # If the connection died, the server already rolled back.
                    with contextlib.suppress(*lost):
                        await self._txn.rollback()
        except lost as exc:
            raise DatabaseUnavailableError() from exc
        finally:
            with contextlib.suppress(*lost):  # the pool replaces a dead connection on its own
                await self._engine.pool.release(self._conn)
        if e is not None and isinstance(e, lost):
            # The database went away mid-transaction (restart, failover, network): 503, and the
            # pool reconnects for the next request.
            raise DatabaseUnavailableError() from e


def _connection_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the database connection is gone", not "the statement failed"."""
    import asyncpg

    return (
        OSError,
        asyncpg.PostgresConnectionError,
        asyncpg.CannotConnectNowError,
        asyncpg.InterfaceError,
        asyncpg.AdminShutdownError,
        # A connection the server closed mid-protocol is left in an impossible state.
        asyncpg.InternalClientError,
    )


class PostgresEngine:
    dialect = "postgresql"
    for_update = "FOR UPDATE"
    single_statement_writes = True

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.dsn = pg_url.dsn(url)  # checks sslmode before anything connects
        self.pool_size = pool_size
        self._pool: Any = None

    @property
    def pool(self) -> Any:
        assert self._pool is not None, "engine not open"
        return self._pool

    async def open(self) -> None:
        import asyncpg

        self._pool = await asyncpg.create_pool(
            self.dsn,
            min_size=min(2, self.pool_size),
            max_size=self.pool_size,
            statement_cache_size=1024,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def transaction(self, *, write: bool, implicit: bool = False) -> TransactionScope:
        # implicit: one statement in autocommit is its own transaction (no BEGIN/COMMIT)
        return _PostgresTransaction(self, write and not implicit)

    def is_unique_violation(self, exc: BaseException) -> bool:
        import asyncpg

        return isinstance(exc, asyncpg.UniqueViolationError)

    def pool_stats(self) -> tuple[int, int, int]:
        if self._pool is None:
            return (0, 0, self.pool_size)
        return (self._pool.get_size(), self._pool.get_idle_size(), self.pool_size)

    def is_transient(self, exc: BaseException) -> bool:
        import asyncpg

        return isinstance(exc, (asyncpg.DeadlockDetectedError, asyncpg.SerializationError))


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def sqlite_path(url: str) -> str | None:
    """The file path of a ``sqlite:///`` URL (SQLAlchemy's form), or None for other URLs."""
    if url in ("sqlite://", "sqlite:///:memory:"):
        return ":memory:"
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :]
    return None


class UnsupportedDatabaseError(ValueError):
    pass


def create_engine(url: str, *, sqlite_synchronous: str = "NORMAL", pool_size: int = 10) -> Engine:
    """Pick the engine for a database URL."""
    path = sqlite_path(url)
    if path is not None:
        return SqliteEngine(path, synchronous=sqlite_synchronous)
    if is_postgres(url):
        return PostgresEngine(url, pool_size=pool_size)
    raise UnsupportedDatabaseError(
        f"unsupported database URL {url!r}: use sqlite:///path/to/file.db "
        "or postgresql://user@host:port/database"
    )

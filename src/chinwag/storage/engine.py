"""Database engines: the only home of dialect differences.

Stores write SQL once, with PostgreSQL-style ``$1`` placeholders; each engine adapts it.

PostgreSQL runs on asyncpg (chosen over psycopg 3 for its lower per-statement cost; see
docs/performance.md), with a connection pool per process. The
SQLite engine runs the stdlib ``sqlite3`` driver on the event-loop thread over one connection:
measured on this machine that is ~5x faster per write than SQLAlchemy + aiosqlite, because a
statement costs microseconds while a thread hand-off costs tens. One connection also makes
SQLite's single-writer rule explicit; an ``asyncio.Lock`` keeps transactions from interleaving
should a store ever await real I/O inside one.

Durability: WAL with ``synchronous=NORMAL`` keeps every committed transaction across a process
kill; ``FULL`` also across power loss (configurable, see ``Settings.sqlite_synchronous``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from chinwag.errors import DatabaseUnavailableError

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


class _SqliteTransaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` under the engine lock; reads skip the BEGIN."""

    __slots__ = ("_engine", "_write")

    def __init__(self, engine: SqliteEngine, write: bool) -> None:
        self._engine = engine
        self._write = write

    async def __aenter__(self) -> Connection:
        engine = self._engine
        await engine.lock.acquire()
        if self._write:
            try:
                engine.raw.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                # Another process held the write lock past busy_timeout.
                engine.lock.release()
                raise DatabaseUnavailableError() from exc
            except BaseException:
                engine.lock.release()
                raise
        return engine.conn

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        engine = self._engine
        try:
            if self._write and et is not None:
                # Some failures (a full disk) already rolled the transaction back.
                if engine.raw.in_transaction:
                    engine.raw.execute("ROLLBACK")
            elif self._write:
                try:
                    engine.raw.execute("COMMIT")
                except sqlite3.OperationalError as exc:
                    if engine.raw.in_transaction:
                        engine.raw.execute("ROLLBACK")
                    if _sqlite_unavailable(exc):
                        raise DatabaseUnavailableError() from exc
                    raise
                if engine.checkpointer is not None:
                    engine.checkpointer.committed()
        finally:
            engine.lock.release()


class _Checkpointer:
    """Moves WAL pages into the database file from a background thread.

    SQLite's automatic checkpoint runs inside whichever COMMIT crosses 1000 WAL pages: on the
    event loop, stalling every in-flight request for ~5 ms about every 200 message creates
    (measured: 139 stalls, 711 ms, in 30,000 creates). Here it runs on its own connection in
    PASSIVE mode, which never waits for (or blocks) readers or writers: every ``interval``
    seconds, and sooner when the writer calls :meth:`nudge` after a burst of commits.
    """

    #: commits between nudges: about SQLite's own 1000-page auto-checkpoint for small writes
    EVERY = 500

    def __init__(self, path: str, interval: float = 0.5) -> None:
        self._path = path
        self._interval = interval
        self._commits = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chinwag-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def committed(self) -> None:
        """Called by the writer after each commit (cheap: a counter, an Event every EVERY)."""
        self._commits += 1
        if self._commits >= self.EVERY:
            self._commits = 0
            self._wake.set()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            while True:
                self._wake.wait(self._interval)
                self._wake.clear()
                if self._stop.is_set():
                    break
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    log.warning("WAL checkpoint failed; will retry", exc_info=True)
        finally:
            conn.close()


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

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        raw = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        raw.row_factory = sqlite3.Row
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute(f"PRAGMA synchronous={self.synchronous}")
        raw.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
        if self.path != ":memory:":
            raw.execute("PRAGMA wal_autocheckpoint=0")
            raw.execute(f"PRAGMA journal_size_limit={64 * 1024 * 1024}")
            self.checkpointer = _Checkpointer(self.path)
            self.checkpointer.start()
        self._raw = raw
        self._conn = _SqliteConnection(raw)
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
        if self._raw is not None:
            try:
                self._raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                log.warning("final WAL checkpoint failed", exc_info=True)
            self._raw.close()
            self._raw = self._conn = None

    def transaction(self, *, write: bool, implicit: bool = False) -> TransactionScope:
        return _SqliteTransaction(self, write)

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
        self.pool_size = pool_size
        self._pool: Any = None

    @property
    def pool(self) -> Any:
        assert self._pool is not None, "engine not open"
        return self._pool

    async def open(self) -> None:
        import asyncpg

        self._pool = await asyncpg.create_pool(
            self.url,
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

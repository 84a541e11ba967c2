"""The PostgreSQL engine: asyncpg, with a connection pool per process.

asyncpg was chosen over psycopg 3 for its lower per-statement cost (see docs/performance.md).
Statements are prepared and cached per connection. The statements of single-statement units
(message creates) commit in groups: see ``statement_groups``.
"""

from __future__ import annotations

import contextlib
import functools
from types import TracebackType
from typing import Any

from chinwag.errors import DatabaseUnavailableError
from chinwag.storage import pg_url
from chinwag.storage.engines.base import Connection, PlainRow, Row, TransactionScope
from chinwag.storage.engines.statement_groups import StatementGroups


class _PostgresConnection:
    """asyncpg behind the store interface; statements are prepared and cached per connection."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def fetchone(self, sql: str, args: tuple[Any, ...]) -> Row | None:
        return await self._conn.fetchrow(sql, *args)

    async def fetchall(self, sql: str, args: tuple[Any, ...]) -> list[Row]:
        return list(await self._conn.fetch(sql, *args))

    async def fetchall_plain(self, sql: str, args: tuple[Any, ...]) -> list[PlainRow]:
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


class _GroupedConnection:
    """The connection of a single-statement unit: its ``fetchone`` joins a statement group.

    Such a unit runs one statement, and ``Txn`` refuses a second, so the ``fetchall``s and
    ``execute`` (which no such unit uses today) run alone on a pooled connection.
    """

    __slots__ = ("_engine",)

    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine

    async def fetchone(self, sql: str, args: tuple[Any, ...]) -> Row | None:
        return await self._engine.statement_groups.fetchone(sql, args)

    async def fetchall(self, sql: str, args: tuple[Any, ...]) -> list[Row]:
        async with self._engine.pool.acquire() as conn:
            return await _PostgresConnection(conn).fetchall(sql, args)

    async def fetchall_plain(self, sql: str, args: tuple[Any, ...]) -> list[PlainRow]:
        return await self.fetchall(sql, args)

    async def execute(self, sql: str, args: tuple[Any, ...]) -> int:
        async with self._engine.pool.acquire() as conn:
            return await _PostgresConnection(conn).execute(sql, args)


class _SingleStatementScope:
    """The scope of a single-statement unit: no connection or transaction of its own (its
    statement commits with its group); a lost connection is a 503, as in any scope."""

    __slots__ = ("_engine",)

    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine

    async def __aenter__(self) -> Connection:
        return _GroupedConnection(self._engine)

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if e is not None and isinstance(e, self._engine.connection_errors):
            raise DatabaseUnavailableError() from e


async def _keep_session(conn: Any) -> None:
    """The pool's reset of a released connection: nothing to do.

    asyncpg's default reset runs ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` on every release, a round trip and a transaction per request. chinwag keeps no
    session state on a connection (no SET, LISTEN, cursors or advisory locks), and the pool
    still rolls back a transaction left open before this runs.
    """


@functools.cache
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
    for_update = "FOR UPDATE"
    single_statement_writes = True

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.dsn = pg_url.dsn(url)  # checks sslmode before anything connects
        self.pool_size = pool_size
        self._pool: Any = None
        self.statement_groups = StatementGroups(lambda: self.pool.acquire(), _connection_errors())

    @property
    def connection_errors(self) -> tuple[type[BaseException], ...]:
        """Exceptions that mean "the database connection is gone", not "the statement failed"."""
        return _connection_errors()

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
            reset=_keep_session,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def transaction(self, *, write: bool, single: bool = False) -> TransactionScope:
        # single: a single-statement unit; its statement commits with its statement group
        if write and single:
            return _SingleStatementScope(self)
        return _PostgresTransaction(self, write)

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

    def is_schema_gone(self, exc: BaseException) -> bool:
        import asyncpg

        # pg_restore --clean drops and recreates the tables: statements meanwhile find none,
        # and a cached plan of a dropped table is refused once it is back
        return isinstance(
            exc,
            (
                asyncpg.UndefinedTableError,
                asyncpg.InvalidCachedStatementError,
            ),
        )

"""What every engine offers the :class:`~chinwag.storage.database.Database`.

Stores write SQL once, with PostgreSQL-style ``$1`` placeholders; each engine adapts it. The
engine modules beside this one are the only home of dialect differences.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any, Protocol

Row = Any  # sqlite3.Row here; asyncpg.Record on PostgreSQL. Both index by column name.
#: a row of :meth:`Connection.fetchall_plain`: index it by position only
PlainRow = Sequence[Any]


class Connection(Protocol):
    async def fetchone(self, sql: str, args: tuple[Any, ...]) -> Row | None: ...
    async def fetchall(self, sql: str, args: tuple[Any, ...]) -> list[Row]: ...
    async def fetchall_plain(self, sql: str, args: tuple[Any, ...]) -> list[PlainRow]:
        """Rows without column names, for hot lists that unpack them by position.

        On SQLite these are tuples, which cost less to build and unpack than ``sqlite3.Row``;
        asyncpg's Records already index by position, so PostgreSQL returns what
        :meth:`fetchall` does.
        """
        ...

    async def execute(self, sql: str, args: tuple[Any, ...]) -> int: ...


class TransactionScope(Protocol):
    async def __aenter__(self) -> Connection: ...
    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class Engine(Protocol):
    #: appended to a SELECT that reads a row it will change (row lock where the engine has them)
    for_update: str
    #: one statement may change several tables (a data-modifying CTE) and, run on its own, is
    #: its own transaction: see ``storage.database.single_statement``
    single_statement_writes: bool

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    def transaction(self, *, write: bool, single: bool = False) -> TransactionScope:
        """The scope of a read or of a write unit of work.

        ``single``: the unit was declared ``single_statement``: its change is one step, made
        entirely or not at all. Where ``single_statement_writes``, its statement runs without
        a transaction of its own; elsewhere the engine may rely on that promise otherwise.
        """
        ...

    def is_unique_violation(self, exc: BaseException) -> bool: ...
    def pool_stats(self) -> tuple[int, int, int]:
        """(open connections, idle connections, maximum), for metrics."""
        ...

    def is_transient(self, exc: BaseException) -> bool:
        """Whether the transaction was aborted for a reason a retry can overcome."""
        ...

    def is_schema_gone(self, exc: BaseException) -> bool:
        """Whether the statement failed because chinwag's tables are missing or being replaced
        (a backup restored under a running server): the database is unavailable for now, and
        answers 503 until the restore completes, not a 500 with a traceback."""
        ...

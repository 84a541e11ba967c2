"""The one path into the database: ``run_in_txn`` for changes, ``run_read`` for reads.

A unit of work is an async function taking a :class:`Txn` first. Side effects that must not
happen unless the change commits (publishing events, waking the webhook dispatcher) are
registered with :meth:`Txn.call_after` and run only after a successful commit, in order.
No network I/O happens inside a transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

from chinwag.errors import DatabaseUnavailableError
from chinwag.storage.engines import Connection, Engine, PlainRow, Row

log = logging.getLogger(__name__)

#: Attempts at a unit of work that the database aborted for a transient reason (a deadlock or
#: serialization failure on PostgreSQL). Units of work must therefore be safe to re-run: they
#: may only change the database and register after-commit hooks.
MAX_ATTEMPTS = 5

P = ParamSpec("P")
R = TypeVar("R")


#: the attribute :func:`single_statement` sets on a unit of work
_SINGLE = "chinwag_single_statement"

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def single_statement(fn: F) -> F:
    """Declare that the unit of work ``fn`` makes its whole change with one statement, where
    the engine allows (``Engine.single_statement_writes``), and runs nothing before or after it.

    :meth:`Database.run_in_txn` then runs it without BEGIN/COMMIT on such an engine. Declaring
    a unit that runs a second statement is a bug: its first statement has already committed on
    its own, so the second raises :class:`NotSingleStatementError` instead of running.
    Elsewhere (SQLite) the unit may take one statement per table, and its change is still one
    step: it fails before changing anything, or it succeeds (see ``Engine.transaction``).
    """
    setattr(fn, _SINGLE, True)
    return fn


class NotSingleStatementError(RuntimeError):
    """A unit declared with :func:`single_statement` tried to run a second statement."""


class Txn:
    """An open transaction (or read scope) handed to store functions ending in ``_txn``."""

    __slots__ = ("_after", "_conn", "_spent", "engine")

    def __init__(self, conn: Connection, engine: Engine, *, single: bool = False) -> None:
        self._conn = conn
        self.engine = engine
        self._after: list[tuple[Callable[..., object], tuple[Any, ...]]] = []
        #: False while a single-statement unit may still run its statement; None otherwise
        self._spent: bool | None = False if single else None

    @property
    def one_statement(self) -> bool:
        """This unit runs as one statement, its own transaction (a declared unit on an engine
        with ``single_statement_writes``): it may run no other."""
        return self._spent is not None

    def _statement(self) -> Connection:
        if self._spent is not None:
            if self._spent:
                raise NotSingleStatementError("a single-statement unit ran a second statement")
            self._spent = True
        return self._conn

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        return await self._statement().fetchone(sql, args)

    async def fetchall(self, sql: str, *args: Any) -> list[Row]:
        return await self._statement().fetchall(sql, args)

    async def fetchall_plain(self, sql: str, *args: Any) -> list[PlainRow]:
        """Rows indexed by position only (cheaper on SQLite): see ``Connection.fetchall_plain``."""
        return await self._statement().fetchall_plain(sql, args)

    async def execute(self, sql: str, *args: Any) -> int:
        """Run a statement; returns the number of rows it changed."""
        return await self._statement().execute(sql, args)

    @contextmanager
    def on_unique_violation(self, error: Callable[[], Exception]) -> Iterator[None]:
        """Raise ``error()`` if a statement in the block breaks a UNIQUE constraint.

        Domain code checks uniqueness first for a clear answer; this turns the rare lost race
        (two requests passing that check at once) into the same answer instead of a 500.
        """
        try:
            yield
        except Exception as exc:
            if self.engine.is_unique_violation(exc):
                raise error() from None
            raise

    def call_after(self, fn: Callable[..., object], *args: Any) -> None:
        """Run ``fn(*args)`` after this transaction commits; never if it rolls back."""
        self._after.append((fn, args))

    def run_after_hooks(self) -> None:
        for fn, args in self._after:
            try:
                fn(*args)
            except Exception:
                log.exception("after-commit hook %r failed", fn)


class Database:
    #: seconds after a write failed for lack of a database (disk full, unreachable) during which
    #: :meth:`writes_failing` is true; short, so a health check recovers soon after the cause
    UNAVAILABLE_WINDOW = 5.0

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._unavailable_at: float | None = None

    def writes_failing(self) -> bool:
        """Whether a write recently failed because the database was unavailable."""
        at = self._unavailable_at
        return at is not None and time.monotonic() - at < self.UNAVAILABLE_WINDOW

    async def open(self) -> None:
        await self.engine.open()

    async def close(self) -> None:
        await self.engine.close()

    async def run_in_txn(
        self,
        desc: str,
        fn: Callable[Concatenate[Txn, P], Awaitable[R]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Run ``fn`` in a write transaction; commit if it returns, roll back if it raises.

        A transient abort (deadlock, serialization failure) re-runs ``fn`` in a new transaction.
        ``desc`` names the unit of work for logs and, later, metrics.

        A unit declared with :func:`single_statement` runs as that one statement where the
        engine allows (``Engine.single_statement_writes``): without BEGIN/COMMIT, it is its own
        transaction, saving two round trips and holding row locks only while the server runs
        it, not while the client is scheduled between statements. Elsewhere, and for every
        other unit, it is an ordinary transaction (on SQLite a declared unit skips the
        savepoint of its own: see ``Engine.transaction``).
        """
        single = getattr(fn, _SINGLE, False)
        implicit = single and self.engine.single_statement_writes
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self.engine.transaction(write=True, single=single) as conn:
                    txn = Txn(conn, self.engine, single=implicit)
                    result = await fn(txn, *args, **kwargs)
            except DatabaseUnavailableError:
                self._unavailable_at = time.monotonic()
                raise
            except Exception as exc:
                if self.engine.is_schema_gone(exc):
                    self._unavailable_at = time.monotonic()
                    raise DatabaseUnavailableError() from exc
                if attempt == MAX_ATTEMPTS or not self.engine.is_transient(exc):
                    raise
                log.info("retrying %s after %s (attempt %d)", desc, type(exc).__name__, attempt)
                continue
            self._unavailable_at = None
            txn.run_after_hooks()
            return result
        raise AssertionError("unreachable")

    async def run_read(
        self,
        desc: str,
        fn: Callable[Concatenate[Txn, P], Awaitable[R]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """Run ``fn`` for reading only. ``call_after`` is meaningless here and not run."""
        try:
            async with self.engine.transaction(write=False) as conn:
                return await fn(Txn(conn, self.engine), *args, **kwargs)
        except Exception as exc:
            if self.engine.is_schema_gone(exc):
                raise DatabaseUnavailableError() from exc
            raise

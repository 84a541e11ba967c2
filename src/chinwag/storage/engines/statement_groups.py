"""PostgreSQL statement groups: single-statement writes that share one transaction and one commit.

A unit of work declared ``single_statement`` (a message create) runs as one statement in
autocommit: one round trip, but also one commit each, and a commit waits for its WAL flush
(``synchronous_commit`` is on). On a hot channel the channel row's lock orders the creates, so
each one waits for the previous one's flush: the flushes, not the statements, set the pace.

Under load many such statements reach the engine while a flush is under way. Those with the
same SQL text form the next *group*; its task runs them as one pipelined ``fetchmany`` (a
Bind/Execute per statement, one Sync) between BEGIN and COMMIT on one pooled connection::

    fetchone ──> pending (by SQL text) ──(the running group ended)──> BEGIN; fetchmany; COMMIT
                                                                        │
                          each statement's row <── one WAL flush ───────┘

One group runs at a time, so two groups never wait for each other's row locks (no deadlock
between groups) and the next group gathers while one commits. A statement of such a unit is a
``fetchone`` and returns at most one row; the group checks that it got one row per statement
before COMMIT. If it did not (a create for a channel that does not exist returns none), or the
batch failed (a unique violation, a deadlock with another transaction), the group rolls back
and runs each statement alone in autocommit, as without groups, so every unit gets its own
row or its own error. A statement alone in its group runs alone too.

Durability is unchanged: a unit's ``fetchone`` returns only after its group's COMMIT, so a 201
still means committed. If the connection is lost, the statements not yet answered fail with the
connection's error (503), as a single statement would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from chinwag.storage.engines.base import Row

#: one statement's arguments and the future its unit waits on
_Statement = tuple[tuple[Any, ...], "asyncio.Future[Row | None]"]


class _Misfit(Exception):
    """The batch did not return exactly one row per statement: roll back, run them alone."""


class StatementGroups:
    """The pending statements of one PostgreSQL engine and the task that runs them.

    It is handed only what it uses of the engine, so the two modules do not import each other:
    ``acquire`` (a pooled connection, as ``pool.acquire()``) and ``connection_errors`` (what
    means the connection is gone, not that a statement failed).
    """

    __slots__ = ("_acquire", "_connection_errors", "_pending", "_task")

    def __init__(
        self,
        acquire: Callable[[], AbstractAsyncContextManager[Any]],
        connection_errors: tuple[type[BaseException], ...],
    ) -> None:
        self._acquire = acquire
        self._connection_errors = connection_errors
        self._pending: dict[str, list[_Statement]] = {}
        self._task: asyncio.Task[None] | None = None

    async def fetchone(self, sql: str, args: tuple[Any, ...]) -> Row | None:
        """Run ``sql`` with the next group; its row (or None) once the group has committed.

        If the waiting task is cancelled, it still waits for the outcome (the statement commits
        or not with its group whatever happens to the task, and the unit must learn which to run
        its after-commit hooks); the cancellation is passed on at the task's next await.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Row | None] = loop.create_future()
        self._pending.setdefault(sql, []).append((args, future))
        if self._task is None:
            # Created now, the task runs after every callback already queued on the event loop:
            # those requests join the first group.
            self._task = loop.create_task(self._run())
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            if not future.done():
                await asyncio.wait((future,))
                task = asyncio.current_task()
                assert task is not None
                task.cancel()
            return future.result()

    async def _run(self) -> None:
        """Run groups one after another until no statement is pending."""
        pending: dict[str, list[_Statement]] = {}
        try:
            while self._pending:
                pending, self._pending = self._pending, {}
                for sql, statements in pending.items():
                    await self._run_group(sql, statements)
        finally:
            self._task = None
            # Cancelled (the engine closes mid-group): no unit may wait forever.
            for statements in (*pending.values(), *self._pending.values()):
                for _, future in statements:
                    future.cancel()  # a no-op for the statements already answered

    async def _run_group(self, sql: str, statements: list[_Statement]) -> None:
        try:
            async with self._acquire() as conn:
                if len(statements) > 1 and await self._together(conn, sql, statements):
                    return
                for args, future in statements:
                    try:
                        row = await conn.fetchrow(sql, *args)
                    except Exception as exc:
                        if isinstance(exc, self._connection_errors):
                            raise
                        future.set_exception(exc)
                    else:
                        future.set_result(row)
        except BaseException as exc:
            # The connection is lost (or the task is cancelled at shutdown): every statement not
            # yet answered fails with it, as a statement of its own would.
            for _, future in statements:
                if future.done():
                    continue
                if isinstance(exc, Exception):
                    future.set_exception(exc)
                else:
                    future.cancel()
            if not isinstance(exc, Exception):
                raise

    async def _together(self, conn: Any, sql: str, statements: list[_Statement]) -> bool:
        """Run the statements in one transaction; False if it rolled back instead."""
        try:
            async with conn.transaction():
                rows = await conn.fetchmany(sql, [args for args, _ in statements])
                if len(rows) != len(statements):
                    raise _Misfit()
        except Exception as exc:
            if isinstance(exc, self._connection_errors):
                raise
            return False  # rolled back: a misfit, or a statement failed
        for (_, future), row in zip(statements, rows, strict=True):
            future.set_result(row)
        return True

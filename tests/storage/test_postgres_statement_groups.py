"""PostgreSQL statement groups: single-statement units that reach the engine together commit in
one transaction, yet each gets its own row or its own error, and none before its COMMIT.

PostgreSQL only (``CHINWAG_TEST_DATABASE_URL``); SQLite's commit groups are tested in
``test_sqlite_commit_groups.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from chinwag.storage.database import Database, Txn, single_statement
from chinwag.storage.engines import create_engine
from conftest import TEST_DATABASE_URL, Databases

pytestmark = pytest.mark.postgres

#: a statement of a single-statement unit; it also answers which transaction it ran in
INSERT = "INSERT INTO t (x) VALUES ($1) RETURNING x, pg_current_xact_id()::text AS xact"


def _on_postgres(databases: Databases, scenario: Callable[[Database], Awaitable[Any]]) -> Any:
    url = databases.new()

    async def run() -> Any:
        database = Database(create_engine(url))
        await database.open()
        try:
            await database.run_in_txn("create", _execute, "CREATE TABLE t (x TEXT UNIQUE)")
            return await scenario(database)
        finally:
            await database.close()

    return asyncio.run(run())


async def _execute(txn: Txn, sql: str) -> None:
    await txn.execute(sql)


@single_statement
async def _insert(txn: Txn, value: str, hooks: list[str] | None = None) -> tuple[str, str] | None:
    row = await txn.fetchone(INSERT, value)
    if hooks is not None:
        txn.call_after(hooks.append, value)
    return None if row is None else (row["x"], row["xact"])


@single_statement
async def _update(txn: Txn, old: str, new: str) -> str | None:
    row = await txn.fetchone("UPDATE t SET x = $2 WHERE x = $1 RETURNING x", old, new)
    return None if row is None else str(row["x"])


async def _rows(txn: Txn) -> list[str]:
    return sorted(row[0] for row in await txn.fetchall("SELECT x FROM t"))


def test_statements_that_arrive_together_share_one_commit(databases: Databases) -> None:
    if not TEST_DATABASE_URL:
        return

    async def scenario(database: Database) -> tuple[list[Any], list[str]]:
        values = [f"v{i}" for i in range(40)]
        results = await asyncio.gather(*(database.run_in_txn("i", _insert, v) for v in values))
        return results, await database.run_read("rows", _rows)

    results, rows = _on_postgres(databases, scenario)
    assert [x for x, _ in results] == [f"v{i}" for i in range(40)]  # each unit its own row
    assert rows == sorted(f"v{i}" for i in range(40))
    assert len({xact for _, xact in results}) < 10  # 40 statements, a few transactions


def test_a_failing_statement_fails_alone_and_the_rest_of_its_group_commits(
    databases: Databases,
) -> None:
    if not TEST_DATABASE_URL:
        return

    async def scenario(database: Database) -> tuple[list[Any], list[str]]:
        await database.run_in_txn("i", _insert, "taken")
        units = [
            database.run_in_txn("i", _insert, "a"),
            database.run_in_txn("i", _insert, "taken"),  # a unique violation
            database.run_in_txn("u", _update, "missing", "x"),  # no row
            database.run_in_txn("u", _update, "taken", "renamed"),
            database.run_in_txn("i", _insert, "b"),
        ]
        results = await asyncio.gather(*units, return_exceptions=True)
        return results, await database.run_read("rows", _rows)

    results, rows = _on_postgres(databases, scenario)
    assert results[0][0] == "a"
    assert isinstance(results[1], asyncpg.UniqueViolationError)
    assert results[2] is None
    assert results[3] == "renamed"
    assert results[4][0] == "b"
    assert rows == ["a", "b", "renamed"]


def test_a_unit_cancelled_while_its_group_commits_still_runs_its_after_commit_hooks(
    databases: Databases,
) -> None:
    if not TEST_DATABASE_URL:
        return

    async def scenario(database: Database) -> tuple[list[bool], list[str], list[str]]:
        hooks: list[str] = []
        tasks = [
            asyncio.create_task(database.run_in_txn("i", _insert, f"v{i}", hooks)) for i in range(5)
        ]
        await asyncio.sleep(0)  # every unit has joined the group and waits for its commit
        tasks[2].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        cancelled = [t.cancelled() for t in tasks]
        return cancelled, sorted(hooks), await database.run_read("rows", _rows)

    cancelled, hooks, rows = _on_postgres(databases, scenario)
    assert cancelled == [False, False, True, False, False]
    assert rows == ["v0", "v1", "v2", "v3", "v4"]  # the cancelled unit's statement committed
    assert hooks == rows  # and its task learned so: its after-commit hook ran

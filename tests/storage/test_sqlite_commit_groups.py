"""SQLite commit groups: write units of work that start together share one COMMIT.

Each unit still succeeds or fails on its own, and none is answered before its COMMIT.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from chinwag import errors
from chinwag.storage.database import Database, Txn
from chinwag.storage.engines.sqlite import SqliteEngine

pytestmark = pytest.mark.unit


class _FailingCommit:
    """The engine's raw connection, except that COMMIT fails as on an I/O error."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._raw = raw

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT":
            raise sqlite3.OperationalError("disk I/O error")
        return self._raw.execute(sql, *args)


def _run(path: Path, scenario: Callable[[SqliteEngine], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        engine = SqliteEngine(str(path))
        await engine.open()
        try:
            engine.raw.execute("CREATE TABLE t (x TEXT)")
            return await scenario(engine)
        finally:
            await engine.close()

    return asyncio.run(run())


async def _insert(engine: SqliteEngine, value: str, fail: bool = False) -> str:
    async with engine.transaction(write=True) as conn:
        await conn.execute("INSERT INTO t VALUES ($1)", (value,))
        if fail:
            raise ValueError(value)
    return value


async def _single(engine: SqliteEngine, value: str, fail: str = "") -> str:
    """A unit declared single-statement: it inserts ``value``, failing before (``fail="before"``)
    or after (``"after"``) its change."""
    async with engine.transaction(write=True, single=True) as conn:
        if fail == "before":
            raise LookupError(value)  # as a create whose channel UPDATE found no row
        await conn.execute("INSERT INTO t VALUES ($1)", (value,))
        if fail == "after":
            raise ValueError(value)
    return value


def _rows(engine: SqliteEngine) -> list[str]:
    return sorted(r[0] for r in engine.raw.execute("SELECT x FROM t"))


def test_concurrent_units_share_one_commit_and_fail_alone(tmp_path: Path) -> None:
    async def scenario(engine: SqliteEngine) -> None:
        statements: list[str] = []
        engine.raw.set_trace_callback(statements.append)
        results = await asyncio.gather(
            _insert(engine, "a"),
            _insert(engine, "b", fail=True),
            _insert(engine, "c"),
            return_exceptions=True,
        )
        assert results[0] == "a" and results[2] == "c"
        assert isinstance(results[1], ValueError)
        assert statements.count("BEGIN IMMEDIATE") == statements.count("COMMIT") == 1
        assert _rows(engine) == ["a", "c"]

    _run(tmp_path / "g.db", scenario)


def test_single_statement_units_open_no_savepoint_and_fail_alone_before_their_change(
    tmp_path: Path,
) -> None:
    async def scenario(engine: SqliteEngine) -> None:
        statements: list[str] = []
        engine.raw.set_trace_callback(statements.append)
        results = await asyncio.gather(
            _single(engine, "a"),
            _single(engine, "b", fail="before"),
            _insert(engine, "c"),
            _single(engine, "d"),
            return_exceptions=True,
        )
        assert [results[0], results[2], results[3]] == ["a", "c", "d"]
        assert isinstance(results[1], LookupError)
        assert statements.count("SAVEPOINT unit") == 1  # the ordinary unit's only
        assert statements.count("COMMIT") == 1
        assert _rows(engine) == ["a", "c", "d"]

    _run(tmp_path / "s.db", scenario)


def test_a_single_statement_unit_whose_statement_fails_fails_alone(tmp_path: Path) -> None:
    """A failed statement undoes itself and counts no change: nothing to roll back."""

    async def scenario(engine: SqliteEngine) -> None:
        engine.raw.execute("CREATE UNIQUE INDEX t_x ON t (x)")
        await _single(engine, "taken")
        results = await asyncio.gather(
            _single(engine, "a"),
            _single(engine, "taken"),
            _single(engine, "c"),
            return_exceptions=True,
        )
        assert results[0] == "a" and results[2] == "c"
        assert isinstance(results[1], sqlite3.IntegrityError)
        assert _rows(engine) == ["a", "c", "taken"]

    _run(tmp_path / "u.db", scenario)


def test_a_single_statement_unit_failing_after_its_change_loses_the_whole_group(
    tmp_path: Path,
) -> None:
    """Without a savepoint its rows cannot be undone alone: nothing of the group commits."""

    async def scenario(engine: SqliteEngine) -> None:
        results = await asyncio.gather(
            _single(engine, "a"),
            _single(engine, "b", fail="after"),
            _insert(engine, "c"),
            return_exceptions=True,
        )
        assert isinstance(results[0], errors.DatabaseUnavailableError)
        assert isinstance(results[1], ValueError)  # its own error
        assert isinstance(results[2], errors.DatabaseUnavailableError)
        assert not engine.raw.in_transaction
        assert await _single(engine, "d") == "d"  # a new group
        assert _rows(engine) == ["d"]

    _run(tmp_path / "l.db", scenario)


def test_a_failed_commit_fails_every_unit_in_the_group_and_reads_never_saw_them(
    tmp_path: Path,
) -> None:
    async def read(engine: SqliteEngine) -> list[str]:
        async with engine.transaction(write=False) as conn:
            return [r[0] for r in await conn.fetchall("SELECT x FROM t", ())]

    async def scenario(engine: SqliteEngine) -> None:
        raw = engine.raw
        engine._raw = _FailingCommit(raw)  # type: ignore[assignment]
        results = await asyncio.gather(
            _insert(engine, "a"), read(engine), _insert(engine, "b"), return_exceptions=True
        )
        assert isinstance(results[0], errors.DatabaseUnavailableError)
        assert isinstance(results[2], errors.DatabaseUnavailableError)
        assert results[1] == []  # the read waited for the group's end
        engine._raw = raw
        assert not raw.in_transaction
        assert await _insert(engine, "after") == "after"  # and writes go on
        assert _rows(engine) == ["after"]

    _run(tmp_path / "f.db", scenario)


def test_a_full_disk_in_one_unit_loses_the_whole_group(tmp_path: Path) -> None:
    """SQLITE_FULL rolls back SQLite's whole transaction: the other units get 503 too, and the
    units after it never run."""

    async def big(engine: SqliteEngine) -> str:
        return await _insert(engine, "x" * 20_000)

    async def scenario(engine: SqliteEngine) -> None:
        pages = engine.raw.execute("PRAGMA page_count").fetchone()[0]
        engine.raw.execute(f"PRAGMA max_page_count = {pages + 2}")
        results = await asyncio.gather(
            _insert(engine, "a"), big(engine), _insert(engine, "c"), return_exceptions=True
        )
        assert all(isinstance(r, errors.DatabaseUnavailableError) for r in results)
        assert not engine.raw.in_transaction
        assert await _insert(engine, "d") == "d"  # a new group
        assert _rows(engine) == ["d"]

    _run(tmp_path / "d.db", scenario)


def test_a_unit_cancelled_while_its_group_commits_still_runs_its_after_commit_hooks(
    tmp_path: Path,
) -> None:
    async def scenario(engine: SqliteEngine) -> None:
        db = Database(engine)
        hooks: list[str] = []
        a_ran, b_may_finish = asyncio.Event(), asyncio.Event()

        async def unit_a(txn: Txn) -> None:
            await txn.execute("INSERT INTO t VALUES ($1)", "a")
            txn.call_after(hooks.append, "a")
            a_ran.set()

        async def unit_b(txn: Txn) -> None:
            await b_may_finish.wait()  # keeps the group from committing
            await txn.execute("INSERT INTO t VALUES ($1)", "b")

        a = asyncio.create_task(db.run_in_txn("a", unit_a))
        b = asyncio.create_task(db.run_in_txn("b", unit_b))
        await a_ran.wait()
        await asyncio.sleep(0)  # a waits for its group's COMMIT
        a.cancel()
        b_may_finish.set()
        await b
        with pytest.raises(asyncio.CancelledError):
            await a
        assert hooks == ["a"]
        assert _rows(engine) == ["a", "b"]

    _run(tmp_path / "c.db", scenario)


def test_waiting_for_another_process_write_lock_leaves_the_event_loop_free(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.db"

    async def scenario(engine: SqliteEngine) -> None:
        other = sqlite3.connect(path, isolation_level=None)  # another process, as SQLite sees it
        try:
            other.execute("BEGIN IMMEDIATE")
            write = asyncio.create_task(_insert(engine, "a"))
            started = time.monotonic()
            for _ in range(20):
                await asyncio.sleep(0.005)
            assert time.monotonic() - started < 1  # the loop ran on
            assert not write.done()
            async with engine.transaction(write=False) as conn:  # and served reads
                assert await conn.fetchall("SELECT x FROM t", ()) == []
            other.execute("COMMIT")
            assert await write == "a"
        finally:
            other.close()

    _run(path, scenario)


def test_a_read_waits_for_one_group_not_for_a_steady_stream_of_writes(tmp_path: Path) -> None:
    """Writes arriving every turn of the event loop (requests on many connections) always have
    a group pending, often one created in the turn the running group ends; a read still gets
    in as soon as the group running when it arrived has committed. (It once waited until the
    writes paused: half a second under load.)"""

    async def scenario(engine: SqliteEngine) -> None:
        commits = 0

        def count(sql: str) -> None:
            nonlocal commits
            commits += sql == "COMMIT"

        engine.raw.set_trace_callback(count)
        stop = asyncio.Event()

        async def arrivals() -> None:
            writes: set[asyncio.Task[str]] = set()
            n = 0
            while not stop.is_set():
                n += 1
                task = asyncio.create_task(_insert(engine, str(n)))
                writes.add(task)
                task.add_done_callback(writes.discard)
                await asyncio.sleep(0)
            await asyncio.gather(*writes)

        load = asyncio.create_task(arrivals())
        try:
            waits = []
            for _ in range(20):
                while engine.groups.running is None:  # arrive while a group runs
                    await asyncio.sleep(0)
                before = commits
                async with engine.transaction(write=False) as conn:
                    assert await conn.fetchone("SELECT count(*) FROM t", ()) is not None
                    waits.append(commits - before)
            assert max(waits) <= 1, f"reads waited for {waits} commits"
        finally:
            stop.set()
            await load

    _run(tmp_path / "r.db", scenario)

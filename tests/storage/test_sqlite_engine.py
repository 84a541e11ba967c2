"""SQLite engine specifics: WAL checkpoints happen off the request path."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from chinwag import errors
from chinwag.storage.engines.sqlite import SqliteEngine
from chinwag.storage.engines.wal import Checkpointer
from chinwag.testing import ThreadedServer
from conftest import ACCOUNT_SID, AUTH_TOKEN, TEST_DATABASE_URL

pytestmark = pytest.mark.server


def test_wal_is_checkpointed_in_the_background_not_by_commits(tmp_path: Path) -> None:
    path = tmp_path / "w.db"

    async def run() -> tuple[int, int, int]:
        engine = SqliteEngine(str(path))
        await engine.open()
        try:
            raw = engine.raw
            assert raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
            raw.execute("CREATE TABLE t (x TEXT)")
            for _ in range(3000):  # ~3 MB of WAL: several automatic checkpoints' worth
                async with engine.transaction(write=True) as conn:
                    await conn.execute("INSERT INTO t VALUES ($1)", ("x" * 1000,))
            before = os.path.getsize(path)
            deadline = time.monotonic() + 5
            while os.path.getsize(path) < 2_000_000 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            return before, os.path.getsize(path), os.path.getsize(f"{path}-wal")
        finally:
            await engine.close()

    before, after, wal = asyncio.run(run())
    assert after > 2_000_000 > before or before > 2_000_000  # pages reached the database file
    assert wal < 64 * 1024 * 1024  # journal_size_limit
    wal_file = Path(f"{path}-wal")  # closing checkpoints everything: the WAL is gone or empty
    assert not wal_file.exists() or wal_file.stat().st_size == 0


def test_the_wal_restarts_under_a_steady_stream_of_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PASSIVE checkpoint alone never catches up with a busy writer, so the WAL would grow
    without bound; each checkpoint cycle ends with writes held back until it has."""
    monkeypatch.setattr(Checkpointer, "EVERY", 100)
    path = tmp_path / "s.db"

    async def run() -> int:
        engine = SqliteEngine(str(path))
        await engine.open()
        try:
            engine.raw.execute("CREATE TABLE t (x TEXT)")
            largest = 0
            for _ in range(2000):  # a WAL of 25 MB were it never restarted
                async with engine.transaction(write=True) as conn:
                    await conn.execute("INSERT INTO t VALUES ($1)", ("x" * 3000,))
                largest = max(largest, os.path.getsize(f"{path}-wal"))
                await asyncio.sleep(0)  # no idle time: just let the checkpointer's task run
            count = engine.raw.execute("SELECT count(*) FROM t").fetchone()[0]
            assert count == 2000
            return largest
        finally:
            await engine.close()

    assert asyncio.run(run()) < 12 * 1024 * 1024  # measured: 2-5 MB


def test_a_write_lock_held_elsewhere_becomes_503_not_database_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "l.db"

    async def run() -> None:
        engine = SqliteEngine(str(path), busy_timeout_ms=100)
        await engine.open()
        other = sqlite3.connect(path, isolation_level=None)
        try:
            engine.raw.execute("CREATE TABLE t (x INTEGER)")
            other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
            with pytest.raises(errors.DatabaseUnavailableError) as raised:
                async with engine.transaction(write=True) as conn:
                    await conn.execute("INSERT INTO t VALUES (1)", ())
            assert raised.value.status == 503
            other.execute("ROLLBACK")
            async with engine.transaction(write=True) as conn:  # and it recovers at once
                await conn.execute("INSERT INTO t VALUES (2)", ())
            assert [tuple(r) for r in engine.raw.execute("SELECT x FROM t")] == [(2,)]
        finally:
            other.close()
            await engine.close()

    asyncio.run(run())


def test_a_full_disk_answers_503_and_writes_resume_when_space_returns(tmp_path: Path) -> None:
    path = tmp_path / "full.db"

    async def run() -> None:
        engine = SqliteEngine(str(path))
        await engine.open()
        try:
            engine.raw.execute("CREATE TABLE t (x TEXT)")
            pages = engine.raw.execute("PRAGMA page_count").fetchone()[0]
            engine.raw.execute(f"PRAGMA max_page_count = {pages + 2}")  # SQLite's SQLITE_FULL
            with pytest.raises(errors.DatabaseUnavailableError):
                for _ in range(100):
                    async with engine.transaction(write=True) as conn:
                        await conn.execute("INSERT INTO t VALUES ($1)", ("x" * 2000,))
            assert not engine.raw.in_transaction  # nothing half-done is left open
            engine.raw.execute("PRAGMA max_page_count = 1073741823")  # space is back
            async with engine.transaction(write=True) as conn:
                await conn.execute("INSERT INTO t VALUES ($1)", ("after",))
            rows = [r[0] for r in engine.raw.execute("SELECT x FROM t WHERE x = 'after'")]
            assert rows == ["after"]
        finally:
            await engine.close()

    asyncio.run(run())


def test_healthz_reports_failing_writes_and_recovers(
    fresh_server: ThreadedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    if TEST_DATABASE_URL:
        return  # SQLite only (PostgreSQL outages: test_database_outage.py)
    db = fresh_server.app.deps.db
    monkeypatch.setattr(db, "UNAVAILABLE_WINDOW", 0.5)
    raw = db.engine.raw  # type: ignore[attr-defined]
    with httpx.Client(base_url=fresh_server.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as client:
        service = client.post("/v1/Services", data={"FriendlyName": "s"}).json()["sid"]
        raw.execute(f"PRAGMA max_page_count = {raw.execute('PRAGMA page_count').fetchone()[0]}")
        big = '"' + "x" * 10_000 + '"'  # valid JSON attributes, more than the free pages hold
        full = client.post(f"/v1/Services/{service}/Channels", data={"Attributes": big})
        assert (full.status_code, full.json()["code"]) == (503, 20503)
        assert client.get("/healthz").status_code == 503
        raw.execute("PRAGMA max_page_count = 1073741823")
        time.sleep(0.6)
        assert client.get("/healthz").status_code == 200
        after = client.post(f"/v1/Services/{service}/Channels", data={"FriendlyName": "y"})
        assert after.status_code == 201

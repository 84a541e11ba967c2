#!/usr/bin/env python3
"""asyncpg vs psycopg 3 on chinwag's message-create transaction, without HTTP.

Why: chinwag's PostgreSQL engine needed a driver; this measures the two candidates on the exact
unit of work that dominates writes (claim the next index on the channel row, insert the
message) and on a single-row read, each with a pool of 10 and 32 concurrent tasks, against the
same database, interleaved over several rounds.

    .venv/bin/pip install "psycopg[binary]>=3.2" "psycopg-pool>=3.2"
    .venv/bin/python bench/pg_drivers.py --dsn postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg

SCHEMA = """
DROP TABLE IF EXISTS drv_messages; DROP TABLE IF EXISTS drv_channels;
CREATE TABLE drv_channels (sid text PRIMARY KEY, messages_count int NOT NULL,
    next_message_index bigint NOT NULL, last_message_sid text);
CREATE TABLE drv_messages (id bigserial PRIMARY KEY, sid text UNIQUE NOT NULL,
    channel_sid text NOT NULL, idx bigint NOT NULL, body text NOT NULL, date_created bigint,
    UNIQUE (channel_sid, idx));
"""
CLAIM = (
    "UPDATE drv_channels SET messages_count = messages_count + 1, "
    "next_message_index = next_message_index + 1, last_message_sid = $2 WHERE sid = $1 "
    "RETURNING next_message_index - 1"
)
INSERT = (
    "INSERT INTO drv_messages (sid, channel_sid, idx, body, date_created) "
    "VALUES ($1, $2, $3, $4, $5)"
)
READ = "SELECT sid, channel_sid, idx, body, date_created FROM drv_messages WHERE sid = $1"
CHANNELS = [f"CH{i:032x}" for i in range(100)]

Op = Callable[[int], Awaitable[None]]


async def run_load(op: Op, n: int, concurrency: int) -> float:
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            await op(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - start)


async def asyncpg_ops(dsn: str, pool_size: int) -> tuple[Op, Op, Callable[[], Awaitable[None]]]:
    pool = await asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size)

    async def create(i: int) -> None:
        sid = "IM" + uuid.uuid4().hex
        channel = CHANNELS[0]
        async with pool.acquire() as conn, conn.transaction():
            idx = await conn.fetchval(CLAIM, channel, sid)
            await conn.execute(INSERT, sid, channel, idx, "hello", 0)

    async def read(i: int) -> None:
        async with pool.acquire() as conn:
            await conn.fetchrow(READ, "IMx")

    return create, read, pool.close


def _pyformat(sql: str) -> str:
    """``$n`` placeholders (asyncpg) to ``%s`` (psycopg), in order."""
    return re.sub(r"\$\d+", "%s", sql)


async def psycopg_ops(dsn: str, pool_size: int) -> tuple[Op, Op, Callable[[], Awaitable[None]]]:
    from psycopg_pool import AsyncConnectionPool

    pool = AsyncConnectionPool(dsn, min_size=pool_size, max_size=pool_size, open=False)
    await pool.open(wait=True)
    claim, insert, read_sql = (_pyformat(sql) for sql in (CLAIM, INSERT, READ))

    async def create(i: int) -> None:
        sid = "IM" + uuid.uuid4().hex
        channel = CHANNELS[0]
        async with pool.connection() as conn, conn.transaction():
            cur = await conn.execute(claim, (sid, channel), prepare=True)  # text order: $2, $1
            (idx,) = await cur.fetchone()  # type: ignore[misc]
            await conn.execute(insert, (sid, channel, idx, "hello", 0), prepare=True)

    async def read(i: int) -> None:
        async with pool.connection() as conn:
            cur = await conn.execute(read_sql, ("IMx",), prepare=True)
            await cur.fetchone()

    return create, read, pool.close


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    conn = await asyncpg.connect(args.dsn)
    await conn.execute(SCHEMA)
    await conn.executemany(
        "INSERT INTO drv_channels VALUES ($1, 0, 0, NULL)", [(c,) for c in CHANNELS]
    )
    await conn.close()
    results: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for name, factory in (("asyncpg", asyncpg_ops), ("psycopg3", psycopg_ops)):
            create, read, close = await factory(args.dsn, args.pool)
            await run_load(create, 200, args.concurrency)  # warm-up, prepares statements
            results.setdefault(f"{name} create", []).append(
                await run_load(create, args.n, args.concurrency)
            )
            results.setdefault(f"{name} read", []).append(
                await run_load(read, args.n * 3, args.concurrency)
            )
            await close()
    print(f"pool {args.pool}, {args.concurrency} tasks, {args.rounds} rounds, pid {os.getpid()}")
    print("| operation | ops/s median | min-max |\n|---|---:|---:|")
    for key, values in results.items():
        print(
            f"| {key} | {statistics.median(values):,.0f} | {min(values):,.0f}-{max(values):,.0f} |"
        )
    for op in ("create", "read"):
        ratio = statistics.median(results[f"asyncpg {op}"]) / statistics.median(
            results[f"psycopg3 {op}"]
        )
        print(f"asyncpg / psycopg3, {op}: {ratio:.2f}")


if __name__ == "__main__":
    asyncio.run(main())

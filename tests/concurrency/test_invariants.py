"""Invariants under concurrent load, with two server processes sharing one database.

Each test starts two real ``chinwag serve`` processes on the same database (a SQLite file, or a
PostgreSQL database when ``CHINWAG_TEST_DATABASE_URL`` is set), sends parallel requests to
both, then checks the invariants in the database itself.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import httpx
import pytest

from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, server_env, spawn_server

pytestmark = pytest.mark.server

AUTH = (ACCOUNT_SID, AUTH_TOKEN)
THREADS = 16


def query(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read straight from the database (``$n`` placeholders on both engines)."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///") :]) as conn:
            return list(conn.execute(re.sub(r"\$(\d+)", r"?\1", sql), args).fetchall())

    async def run() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(url)
        try:
            return [tuple(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())


@pytest.fixture
def cluster(databases: Databases) -> Iterator[tuple[str, list[str]]]:
    """Two server processes on one fresh database: (database URL, [base URL, base URL])."""
    url = databases.new()
    env = server_env(
        CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN, CHINWAG_POOL_SIZE="4"
    )
    procs, bases = [], []
    try:
        for _ in range(2):
            proc, base = spawn_server(url, env=env)
            procs.append(proc)
            bases.append(base)
        yield url, bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)


def hammer(bases: list[str], calls: list[Callable[[httpx.Client], httpx.Response]]) -> Counter[Any]:
    """Run the calls from THREADS threads, alternating between servers; count (status, code)."""

    def run(i: int) -> tuple[int, Any]:
        with httpx.Client(base_url=bases[i % len(bases)], auth=AUTH, timeout=30) as client:
            response = calls[i](client)
        body = response.json() if response.content else {}
        return response.status_code, body.get("code") if response.status_code >= 400 else None

    with ThreadPoolExecutor(THREADS) as pool:
        return Counter(pool.map(run, range(len(calls))))


def setup_channel(base: str, **service_settings: str) -> tuple[str, str]:
    with httpx.Client(base_url=base, auth=AUTH) as client:
        service = client.post("/v1/Services", data={"FriendlyName": "c"}).json()["sid"]
        if service_settings:
            client.post(f"/v1/Services/{service}", data=service_settings).raise_for_status()
        channel = client.post(f"/v1/Services/{service}/Channels", data={"UniqueName": "hot"})
        return service, channel.json()["sid"]


def test_concurrent_messages_get_unique_gapless_indexes(cluster: tuple[str, list[str]]) -> None:
    url, bases = cluster
    service, channel = setup_channel(bases[0])
    path = f"/v1/Services/{service}/Channels/hot/Messages"
    n = 400
    outcome = hammer(bases, [lambda c, i=i: c.post(path, data={"Body": f"m{i}"}) for i in range(n)])
    assert outcome == {(201, None): n}
    indexes = [r[0] for r in query(url, "SELECT idx FROM messages WHERE channel_sid = $1", channel)]
    assert sorted(indexes) == list(range(n))
    assert query(url, "SELECT messages_count FROM channels WHERE sid = $1", channel) == [(n,)]


def test_member_adds_never_exceed_the_channel_limit(cluster: tuple[str, list[str]]) -> None:
    url, bases = cluster
    service, channel = setup_channel(bases[0], **{"Limits.ChannelMembers": "7"})
    path = f"/v1/Services/{service}/Channels/hot/Members"
    outcome = hammer(
        bases, [lambda c, i=i: c.post(path, data={"Identity": f"u{i}"}) for i in range(40)]
    )
    assert outcome == {(201, None): 7, (403, 50403): 33}
    assert query(url, "SELECT COUNT(*) FROM members WHERE channel_sid = $1", channel) == [(7,)]
    assert query(url, "SELECT members_count FROM channels WHERE sid = $1", channel) == [(7,)]
    joined = query(
        url, "SELECT SUM(joined_channels_count) FROM users WHERE service_sid = $1", service
    )
    assert joined == [(7,)]


def test_one_user_joining_many_channels_at_once_keeps_counts_exact(
    cluster: tuple[str, list[str]],
) -> None:
    url, bases = cluster
    with httpx.Client(base_url=bases[0], auth=AUTH) as client:
        service = client.post("/v1/Services", data={"FriendlyName": "c"}).json()["sid"]
        client.post(f"/v1/Services/{service}", data={"Limits.UserChannels": "5"})
        for i in range(20):
            client.post(f"/v1/Services/{service}/Channels", data={"UniqueName": f"c{i}"})
    calls = [
        lambda c, i=i: c.post(
            f"/v1/Services/{service}/Channels/c{i}/Members", data={"Identity": "same-user"}
        )
        for i in range(20)
    ]
    outcome = hammer(bases, calls)
    assert outcome == {(201, None): 5, (403, 50208): 15}
    assert query(
        url,
        "SELECT COUNT(*), MAX(joined_channels_count) FROM users WHERE service_sid = $1",
        service,
    ) == [(1, 5)]


@pytest.mark.parametrize(
    ("path", "data", "code"),
    [
        ("/Channels", {"UniqueName": "dup"}, 50307),
        ("/Users", {"Identity": "dup"}, 50201),
        ("/Channels/hot/Members", {"Identity": "dup"}, 50404),
    ],
)
def test_concurrent_duplicate_creates_yield_one_201(
    cluster: tuple[str, list[str]], path: str, data: dict[str, str], code: int
) -> None:
    _, bases = cluster
    service, _ = setup_channel(bases[0])
    full = f"/v1/Services/{service}{path}"
    outcome = hammer(bases, [lambda c: c.post(full, data=data) for _ in range(24)])
    assert outcome == {(201, None): 1, (409, code): 23}


def test_deleting_a_channel_while_posting_leaves_no_orphans(
    cluster: tuple[str, list[str]],
) -> None:
    url, bases = cluster
    service, channel = setup_channel(bases[0])
    path = f"/v1/Services/{service}/Channels/{channel}"
    calls: list[Callable[[httpx.Client], httpx.Response]] = [
        lambda c, i=i: c.post(f"{path}/Messages", data={"Body": f"m{i}"}) for i in range(200)
    ]
    calls.insert(60, lambda c: c.delete(path))
    outcome = hammer(bases, calls)
    assert set(outcome) <= {(201, None), (204, None), (404, 20404)}
    assert outcome[(204, None)] == 1
    assert query(url, "SELECT COUNT(*) FROM messages WHERE channel_sid = $1", channel) == [(0,)]
    assert query(url, "SELECT COUNT(*) FROM channels WHERE sid = $1", channel) == [(0,)]

"""A database that goes away answers 503 in Twilio format, and is used again when it returns."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest

from chinwag.testing import ThreadedServer
from conftest import ACCOUNT_SID, AUTH_TOKEN, TEST_DATABASE_URL

pytestmark = pytest.mark.server


def _terminate_connections_of(server: ThreadedServer) -> int:
    """What a PostgreSQL restart does to a server's pooled connections, for this server only."""
    url = server.app.api.settings.database
    base, _, name = url.rpartition("/")

    async def run() -> int:
        conn = await asyncpg.connect(f"{base}/postgres")
        try:
            rows = await conn.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            return len(rows)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_lost_postgresql_connections_give_503_then_recover(
    fresh_server: ThreadedServer,
) -> None:
    if not TEST_DATABASE_URL:
        return  # PostgreSQL only: SQLite's outage case is in test_sqlite_engine.py
    with httpx.Client(base_url=fresh_server.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as client:
        assert client.post("/v1/Services", data={"FriendlyName": "before"}).status_code == 201
        assert _terminate_connections_of(fresh_server) >= 1
        responses = [client.get("/v1/Services") for _ in range(15)]
        assert {r.status_code for r in responses} <= {200, 503}
        for unavailable in (r for r in responses if r.status_code == 503):
            assert unavailable.json()["code"] == 20503
        assert responses[-1].status_code == 200  # the pool reconnected without a restart
        assert client.post("/v1/Services", data={"FriendlyName": "after"}).status_code == 201


def test_healthz_and_requests_answer_503_while_postgresql_is_unreachable(
    fresh_server: ThreadedServer,
) -> None:
    if not TEST_DATABASE_URL:
        return  # PostgreSQL only
    engine = fresh_server.app.deps.db.engine

    class StoppedServer:
        """What a stopped PostgreSQL looks like to the pool: every connection is refused."""

        async def acquire(self) -> None:
            raise ConnectionRefusedError("connection refused")

    with httpx.Client(base_url=fresh_server.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as client:
        assert client.get("/healthz").status_code == 200
        real_pool = engine._pool  # type: ignore[attr-defined]
        engine._pool = StoppedServer()  # type: ignore[attr-defined]
        try:
            for response in (
                client.get("/healthz"),
                client.post("/v1/Services", data={"FriendlyName": "x"}),
            ):
                assert response.status_code == 503
                assert response.json()["code"] == 20503
        finally:
            engine._pool = real_pool  # type: ignore[attr-defined]
        # A successful write clears the "writes failing" state at once.
        assert client.post("/v1/Services", data={"FriendlyName": "x"}).status_code == 201
        assert client.get("/healthz").status_code == 200

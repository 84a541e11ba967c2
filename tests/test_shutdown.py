"""Stopping under load loses nothing acknowledged.

SIGTERM: in-flight requests finish, no 5xx, the process exits 0. SIGKILL (a crash): clients
may see dropped connections, but every 201 is stored, counters match the rows and indexes are
unique, after a restart. On SQLite, and on PostgreSQL when CHINWAG_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest

from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, server_env, spawn_server

pytestmark = pytest.mark.server


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_stopping_under_load_keeps_every_201(databases: Databases, sig: signal.Signals) -> None:
    url = databases.new()
    env = server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN)
    proc, base = spawn_server(url, env=env)
    auth = (ACCOUNT_SID, AUTH_TOKEN)
    service = httpx.post(f"{base}/v1/Services", data={"FriendlyName": "s"}, auth=auth).json()
    path = f"/v1/Services/{service['sid']}/Channels"
    channel = httpx.post(f"{base}{path}", data={"UniqueName": "c"}, auth=auth).json()["sid"]
    acknowledged: list[str] = []
    statuses: list[int] = []
    stop = threading.Event()

    def post_until_refused() -> None:
        with httpx.Client(base_url=base, auth=auth, timeout=15) as client:
            while not stop.is_set():
                try:
                    response = client.post(f"{path}/c/Messages", data={"Body": "x"})
                except httpx.TransportError:
                    return  # the server stopped accepting
                statuses.append(response.status_code)
                if response.status_code == 201:
                    acknowledged.append(response.json()["sid"])

    threads = [threading.Thread(target=post_until_refused) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == (0 if sig == signal.SIGTERM else -signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert acknowledged, "no request completed before the signal"
    assert all(s < 500 for s in statuses), sorted(set(statuses))

    restarted, base2 = spawn_server(url, env=env)
    try:
        stored: dict[str, int] = {}
        next_url: str | None = f"{base2}{path}/{channel}/Messages?PageSize=1000"
        while next_url:
            page = httpx.get(next_url, auth=auth).json()
            stored |= {m["sid"]: m["index"] for m in page["messages"]}
            next_url = page["meta"]["next_page_url"]
        assert set(acknowledged) <= set(stored)
        assert len(set(stored.values())) == len(stored)  # no duplicate indexes
        count = httpx.get(f"{base2}{path}/{channel}", auth=auth).json()["messages_count"]
        assert count == len(stored)
    finally:
        restarted.terminate()
        restarted.wait(timeout=15)

"""Sync events across server processes sharing one database (SQLite, or PostgreSQL when
``CHINWAG_TEST_DATABASE_URL`` is set): clients on one process see commits made on another.

Redis carries only wake-ups. These tests run their own ``redis-server`` on a free port, so
stopping it never touches a Redis anyone else uses.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from client_support import NodeClient, create_key, mint_token, ws_url

from chinwag.config import Settings, sync_poll_interval
from chinwag.testing.processes import lifeline
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, free_port, server_env, spawn_server

pytestmark = [pytest.mark.server, pytest.mark.sdk]


class RedisServer:
    """A private redis-server that a test may stop and start again on the same port."""

    def __init__(self) -> None:
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/8"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=lifeline(),
        )
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False
            ).stdout.strip()
            != b"PONG"
        ):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


class Cluster:
    """Server processes on one database, and the REST calls a back end makes."""

    def __init__(self, databases: Databases) -> None:
        self.database = databases.new()
        self.key = create_key(self.database, ACCOUNT_SID)
        self.procs: list[subprocess.Popen[str]] = []
        self.urls: list[str] = []

    def spawn(self, **env: str) -> str:
        proc, url = spawn_server(
            self.database,
            env=server_env(CHINWAG_ACCOUNT_SID=ACCOUNT_SID, CHINWAG_AUTH_TOKEN=AUTH_TOKEN, **env),
        )
        self.procs.append(proc)
        self.urls.append(url)
        return url

    def rest(self, url: str, path: str, **data: Any) -> Any:
        response = httpx.post(url + path, data=data, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def client(self, url: str, service: str, identity: str) -> NodeClient:
        token = mint_token(ACCOUNT_SID, self.key.sid, self.key.secret, service, identity)
        return NodeClient("chat_sync.js", ws_url(url), token)

    def stop(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()


@pytest.fixture
def cluster(databases: Databases) -> Iterator[Cluster]:
    c = Cluster(databases)
    yield c
    c.stop()


def _join(cluster: Cluster, via: str, client: NodeClient, base: str, identity: str) -> None:
    client.wait_for("initialized", timeout=30)
    cluster.rest(via, f"{base}/Members", Identity=identity)
    channel = client.wait_for("channelJoined", timeout=30)["channel"]
    client.request("ready", "", f"ready-{identity}", channel=channel)


def _message(client: NodeClient, body: str, timeout: float = 20) -> dict[str, Any]:
    return client.wait_for(
        lambda e: e.get("event") == "messageAdded" and e["body"] == body, timeout=timeout
    )


def test_redis_carries_changes_between_processes_and_an_outage_heals(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    # A poll this slow never fires during the test: everything live comes through Redis.
    env = {"CHINWAG_REDIS_URL": redis_server.url, "CHINWAG_SYNC_POLL_INTERVAL": "3600"}
    a, b = cluster.spawn(**env), cluster.spawn(**env)
    service = cluster.rest(b, "/v1/Services", FriendlyName="fan-out")["sid"]
    channel = cluster.rest(b, f"/v1/Services/{service}/Channels", UniqueName="general")["sid"]
    base = f"/v1/Services/{service}/Channels/{channel}"
    with cluster.client(a, service, "alice") as alice, cluster.client(b, service, "bob") as bob:
        _join(cluster, b, alice, base, "alice")  # client on A, change made on B
        _join(cluster, a, bob, base, "bob")  # client on B, change made on A
        cluster.rest(a, f"{base}/Messages", Body="from A")
        cluster.rest(b, f"{base}/Messages", Body="from B")
        for client in (alice, bob):
            _message(client, "from A")
            _message(client, "from B")

        redis_server.stop()
        time.sleep(1.5)  # both processes notice; hints published now go nowhere
        cluster.rest(b, f"{base}/Messages", Body="during the outage")
        assert not [e for e in alice.drain(2.0) if e.get("body") == "during the outage"]

        redis_server.start()  # same port: the processes reconnect by themselves and catch up
        assert _message(alice, "during the outage", timeout=30)["index"] == 2
        cluster.rest(a, f"{base}/Messages", Body="after the outage")
        _message(bob, "after the outage")
        indexes = [e["index"] for e in bob.events if e.get("event") == "messageAdded"]
        assert indexes == [0, 1, 2, 3]


def test_processes_without_redis_poll(cluster: Cluster) -> None:
    env = {"CHINWAG_SYNC_POLL_INTERVAL": "0.5"}
    a, b = cluster.spawn(**env), cluster.spawn(**env)
    service = cluster.rest(b, "/v1/Services", FriendlyName="polling")["sid"]
    channel = cluster.rest(b, f"/v1/Services/{service}/Channels", UniqueName="general")["sid"]
    base = f"/v1/Services/{service}/Channels/{channel}"
    with cluster.client(a, service, "alice") as alice:
        _join(cluster, b, alice, base, "alice")
        cluster.rest(b, f"{base}/Messages", Body="polled")
        assert _message(alice, "polled")["index"] == 0


def test_several_processes_poll_by_default_and_one_does_not() -> None:
    assert sync_poll_interval(Settings()) is None
    assert sync_poll_interval(Settings(workers=2)) == 1.0
    assert sync_poll_interval(Settings(redis_url="redis://127.0.0.1:6379/8")) == 1.0
    assert sync_poll_interval(Settings(sync_poll_interval=0.25)) == 0.25

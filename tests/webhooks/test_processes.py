"""Post-events across processes: nothing lost when a server is killed with a backlog, and no
duplicates when two server processes share one database (SQLite, or PostgreSQL when
``CHINWAG_TEST_DATABASE_URL`` is set)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest
from webhook_support import FIRE, POST_EVENTS, client, new_service, ok

from chinwag.testing.webhook_receiver import WebhookReceiver
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, server_env, spawn_server

pytestmark = pytest.mark.server


def env() -> dict[str, str]:
    return server_env(
        CHINWAG_ACCOUNT_SID=ACCOUNT_SID,
        CHINWAG_AUTH_TOKEN=AUTH_TOKEN,
        CHINWAG_WEBHOOK_RETRY_BASE="0.2",
        CHINWAG_WEBHOOK_TIMEOUT="1",
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        proc.kill()
        proc.wait()


def test_a_backlog_survives_a_kill(
    databases: Databases, processes: list[subprocess.Popen[str]]
) -> None:
    database = databases.new()
    proc, base = spawn_server(database, env=env())
    processes.append(proc)
    receiver = WebhookReceiver()
    receiver.start()
    receiver.stop()  # down: every attempt is refused
    with client(base) as http:
        service = new_service(
            http, PostWebhookUrl=receiver.url("/post"), WebhookFilters=POST_EVENTS
        )
        channel = ok(http.post(f"/v1/Services/{service}/Channels"))["sid"]
        for i in range(10):
            path = f"/v1/Services/{service}/Channels/{channel}/Messages"
            ok(http.post(path, data={"Body": str(i)}, headers=FIRE))
    proc.kill()
    proc.wait()
    receiver.start()
    try:
        proc, _ = spawn_server(database, env=env())
        processes.append(proc)
        records = receiver.wait_for(10, timeout=30)
    finally:
        receiver.stop()
    assert [r.params["Index"] for r in records] == [str(i) for i in range(10)]


def test_two_processes_deliver_each_event_once(
    databases: Databases, processes: list[subprocess.Popen[str]]
) -> None:
    database = databases.new()
    bases = []
    for _ in range(2):
        proc, base = spawn_server(database, env=env())
        processes.append(proc)
        bases.append(base)
    with WebhookReceiver() as receiver:
        with client(bases[0]) as a, client(bases[1]) as b:
            service = new_service(
                a, PostWebhookUrl=receiver.url("/post"), WebhookFilters=["onMessageSent"]
            )
            rooms = [ok(a.post(f"/v1/Services/{service}/Channels"))["sid"] for _ in range(3)]
            for i in range(60):
                http = (a, b)[i % 2]
                path = f"/v1/Services/{service}/Channels/{rooms[i % 3]}/Messages"
                ok(http.post(path, data={"Body": str(i)}, headers=FIRE))
        receiver.wait_for(60, timeout=30)
        time.sleep(1.5)  # two poll intervals: a duplicate would have arrived by now
        records = receiver.records
    sids = [r.params["MessageSid"] for r in records]
    assert len(sids) == 60 and len(set(sids)) == 60
    for room in rooms:
        indexes = [int(r.params["Index"]) for r in records if r.params["ChannelSid"] == room]
        assert indexes == sorted(indexes) == list(range(20))

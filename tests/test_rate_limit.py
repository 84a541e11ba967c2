"""Twilio's actions-per-second limits, when configured: 429 50063 / 50074 on mutations only."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from chinwag.testing import ThreadedServer
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, start_server

pytestmark = pytest.mark.server


@pytest.fixture
def limited(databases: Databases) -> Iterator[httpx.Client]:
    srv: ThreadedServer = start_server(databases, rate_limit_channel=5, rate_limit_service=3)
    with httpx.Client(base_url=srv.url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as client:
        yield client
    srv.stop()


def test_channel_mutations_beyond_the_limit_get_50063(limited: httpx.Client) -> None:
    service = limited.post("/v1/Services", data={"FriendlyName": "s"}).json()["sid"]
    for name in ("a", "b"):
        limited.post(f"/v1/Services/{service}/Channels", data={"UniqueName": name})
    path = f"/v1/Services/{service}/Channels/a/Messages"
    statuses = [limited.post(path, data={"Body": "x"}).status_code for _ in range(8)]
    assert statuses[:5] == [201] * 5
    assert 429 in statuses[5:]
    refused = limited.post(path, data={"Body": "x"})
    assert (refused.status_code, refused.json()["code"]) == (429, 50063)
    assert limited.get(path).status_code == 200  # reads are never limited
    other = limited.post(f"/v1/Services/{service}/Channels/b/Messages", data={"Body": "x"})
    assert other.status_code == 201  # each channel has its own budget
    time.sleep(1.1)
    assert limited.post(path, data={"Body": "x"}).status_code == 201


def test_service_mutations_beyond_the_limit_get_50074(limited: httpx.Client) -> None:
    service = limited.post("/v1/Services", data={"FriendlyName": "s"}).json()["sid"]
    users = f"/v1/Services/{service}/Users"
    responses = [limited.post(users, data={"Identity": f"u{i}"}) for i in range(5)]
    assert [r.status_code for r in responses[:3]] == [201] * 3
    assert {(r.status_code, r.json()["code"]) for r in responses[3:]} == {(429, 50074)}
    assert limited.get(users).status_code == 200

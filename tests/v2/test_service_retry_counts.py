"""A Service's v2 ``PreWebhookRetryCount`` and ``PostWebhookRetryCount`` drive what the
webhook gate and the outbox do: pre-event calls retried before the change is refused, and
post-event deliveries retried as often as the Service says, against a real HTTP receiver."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chinwag.clock import FakeClock
from chinwag.testing import ThreadedServer
from chinwag.testing.webhook_receiver import WebhookReceiver
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, start_server

pytestmark = pytest.mark.server

FIRE = {"X-Twilio-Webhook-Enabled": "true"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(databases: Databases, clock: FakeClock) -> Iterator[ThreadedServer]:
    srv = start_server(databases, clock=clock, webhook_timeout=1.0, webhook_rest_pre_events=True)
    yield srv
    srv.stop()


@pytest.fixture
def http(server: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=30) as c:
        yield c


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


def ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


def service_with(http: httpx.Client, **settings: str) -> str:
    sid = ok(http.post("/v2/Services", data={"FriendlyName": "retries"}))["sid"]
    ok(http.post(f"/v2/Services/{sid}", data=settings), 200)
    return str(sid)


def recorded(srv: ThreadedServer) -> int:
    text = httpx.get(f"{srv.url}/metrics").text
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("chinwag_webhook_attempts_total")
        )
    )


def wait_attempts(srv: ThreadedServer, count: int) -> None:
    end = time.monotonic() + 30
    while recorded(srv) < count:
        assert time.monotonic() < end, f"{recorded(srv)} of {count} attempts recorded"
        time.sleep(0.02)


def test_post_webhook_retry_count_is_each_deliverys_retry_limit(
    server: ThreadedServer, http: httpx.Client, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    receiver.reply("/post", 503)
    service = service_with(
        http,
        PostWebhookUrl=receiver.url("/post"),
        WebhookFilters="onMessageSent",
        PostWebhookRetryCount="1",
    )
    channel = ok(http.post(f"/v2/Services/{service}/Channels", data={}))["sid"]
    path = f"/v2/Services/{service}/Channels/{channel}/Messages"
    ok(http.post(path, data={"Body": "one"}, headers=FIRE))
    wait_attempts(server, 1)
    clock.advance(1)
    wait_attempts(server, 2)
    clock.advance(600)  # no third attempt falls due: one retry was all it had
    receiver.reply("/post", 200)
    ok(http.post(path, data={"Body": "two"}, headers=FIRE))
    records = receiver.wait_for(3, path="/post")
    assert [(r.params["Body"], r.params["RetryCount"]) for r in records] == [
        ("one", "0"),
        ("one", "1"),
        ("two", "0"),
    ]


def test_pre_webhook_retry_count_retries_before_the_change_is_refused(
    http: httpx.Client, receiver: WebhookReceiver
) -> None:
    receiver.reply("/pre", 503)
    service = service_with(
        http,
        PreWebhookUrl=receiver.url("/pre"),
        WebhookFilters="onMessageSend",
        PreWebhookRetryCount="2",
    )
    channel = ok(http.post(f"/v2/Services/{service}/Channels", data={}))["sid"]
    path = f"/v2/Services/{service}/Channels/{channel}/Messages"
    refused = http.post(path, data={"Body": "held"})
    assert refused.status_code == 403 and refused.json()["code"] == 50056, refused.text
    assert [r.params["RetryCount"] for r in receiver.records] == ["0", "1", "2"]
    receiver.reply("/pre", 200)
    ok(http.post(path, data={"Body": "let through"}))

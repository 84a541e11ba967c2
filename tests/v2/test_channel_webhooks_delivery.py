"""Channel webhook deliveries through the webhook outbox, to a real HTTP receiver: the events
their filters pick, twilio's RequestValidator on every request, retries per ``retry_count``,
order per channel, trigger words, and a backlog that survives a server restart."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from channel_webhook_support import FIRE, signed

from chinwag.clock import FakeClock
from chinwag.testing import ThreadedServer
from chinwag.testing.plugin import ChannelWebhookFactory
from chinwag.testing.webhook_receiver import WebhookReceiver
from chinwag.webhooks.log import recent_deliveries
from conftest import ACCOUNT_SID, AUTH_TOKEN, Databases, server_env, spawn_server, start_server

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def hooked(databases: Databases) -> Iterator[ThreadedServer]:
    srv = start_server(databases, webhook_timeout=1.0)
    yield srv
    srv.stop()


@pytest.fixture
def http(hooked: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hooked.url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=30) as c:
        yield c


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def paused(databases: Databases, clock: FakeClock) -> Iterator[ThreadedServer]:
    """A server on ``clock``: retries fall due when the test steps it (backoff 1, 2, 4 s)."""
    srv = start_server(databases, clock=clock, webhook_timeout=1.0)
    yield srv
    srv.stop()


@pytest.fixture
def paused_http(paused: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=paused.url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=30) as c:
        yield c


def ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def channel_of(http: httpx.Client, **channel: str) -> str:
    """A new service's new channel: its path under ``/v1`` (the part after the version)."""
    service = ok(http.post("/v1/Services", data={"FriendlyName": "hooks"}))["sid"]
    sid = ok(http.post(f"/v1/Services/{service}/Channels", data=channel))["sid"]
    return f"/Services/{service}/Channels/{sid}"


def hook(http: httpx.Client, channel: str, **configuration: Any) -> dict[str, Any]:
    """Create a channel webhook (form names without ``Configuration.``)."""
    data = {k if k == "Type" else f"Configuration.{k}": v for k, v in configuration.items()}
    return ok(http.post(f"/v2{channel}/Webhooks", data=data))


def send(http: httpx.Client, channel: str, body: str, headers: dict[str, str] = FIRE) -> None:
    ok(http.post(f"/v1{channel}/Messages", data={"Body": body}, headers=headers))


def attempts(srv: ThreadedServer, count: int) -> None:
    """Wait until ``count`` delivery attempts are recorded: from then on, a clock step makes
    the next retry due (stepped earlier, the backoff would start later)."""
    end = time.monotonic() + 30
    while _recorded(srv) < count:
        assert time.monotonic() < end, f"{_recorded(srv)} of {count} attempts recorded"
        time.sleep(0.02)


def _recorded(srv: ThreadedServer) -> int:
    text = httpx.get(f"{srv.url}/metrics").text
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("chinwag_webhook_attempts_total")
        )
    )


def test_the_filtered_events_arrive_signed(http: httpx.Client, receiver: WebhookReceiver) -> None:
    channel = channel_of(http)
    picked = hook(
        http,
        channel,
        Type="webhook",
        Url=receiver.url("/picked"),
        Filters=["onMemberAdded", "onMessageSent", "onChannelDestroyed"],
    )
    hook(
        http,
        channel,
        Type="webhook",
        Url=receiver.url("/get"),
        Method="GET",
        Filters="onMessageUpdated",
    )
    ok(http.post(f"/v1{channel}/Members", data={"Identity": "alice"}, headers=FIRE))
    message = ok(
        http.post(f"/v1{channel}/Messages", data={"Body": "hi", "From": "alice"}, headers=FIRE)
    )["sid"]
    ok(http.post(f"/v1{channel}/Messages/{message}", data={"Body": "hello"}, headers=FIRE), 200)
    ok(http.delete(f"/v1{channel}", headers=FIRE), 204)

    records = [signed(r) for r in receiver.wait_for(3, timeout=20, path="/picked")]
    assert [r.params["EventType"] for r in records] == [
        "onMemberAdded",
        "onMessageSent",
        "onChannelDestroyed",
    ]
    channel_sid = channel.rsplit("/", 1)[1]
    for r in records:
        assert r.method == "POST"
        assert r.params["ChannelSid"] == channel_sid
        assert r.params["AccountSid"] == ACCOUNT_SID
        assert r.params["RetryCount"] == "0"
    assert records[1].params["Body"] == "hi" and records[1].params["From"] == "alice"
    (get,) = [signed(r) for r in receiver.wait_for(1, path="/get")]
    assert get.method == "GET" and get.body == b""
    assert get.params["EventType"] == "onMessageUpdated" and get.params["Body"] == "hello"
    assert picked["sid"] not in get.url


def test_rest_calls_without_the_header_fire_nothing(
    http: httpx.Client, receiver: WebhookReceiver
) -> None:
    channel = channel_of(http)
    hook(http, channel, Type="webhook", Url=receiver.url("/quiet"), Filters="onMessageSent")
    other = channel_of(http)
    send(http, channel, "unheard", headers={})
    send(http, other, "another channel")
    send(http, channel, "heard")
    records = receiver.wait_for(1, path="/quiet")
    time.sleep(0.5)  # time enough for anything else that was queued
    assert [r.params["Body"] for r in receiver.records] == ["heard"]
    assert records[0].params["Body"] == "heard"


def test_trigger_words_fire_for_whole_words_in_any_case(
    http: httpx.Client, receiver: WebhookReceiver
) -> None:
    channel = channel_of(http)
    hook(http, channel, Type="trigger", Url=receiver.url("/words"), Triggers=["help", "on fire"])
    for body in ("I need HELP!", "helpful tips", "the build is on fire", "fire on", "help"):
        send(http, channel, body)
    records = [signed(r) for r in receiver.wait_for(3, path="/words")]
    assert [r.params["Body"] for r in records] == ["I need HELP!", "the build is on fire", "help"]
    assert {r.params["EventType"] for r in records} == {"onMessageSent"}


def test_a_studio_webhook_is_stored_but_never_called(
    http: httpx.Client, hooked: ThreadedServer, receiver: WebhookReceiver
) -> None:
    channel = channel_of(http)
    studio = hook(http, channel, Type="studio", FlowSid="FW" + "cd" * 16)
    hook(http, channel, Type="webhook", Url=receiver.url("/seen"), Filters="onMessageSent")
    send(http, channel, "hello")
    receiver.wait_for(1, path="/seen")
    log = asyncio.run(recent_deliveries(hooked.app.api.settings.database, None, 500))
    assert all(d.webhook_sid != studio["sid"] for d in log)


def test_failures_are_retried_as_often_as_retry_count_says(
    paused: ThreadedServer, paused_http: httpx.Client, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    receiver.reply("/flaky", 503)
    channel = channel_of(paused_http)
    made = hook(
        paused_http,
        channel,
        Type="webhook",
        Url=receiver.url("/flaky"),
        Filters="onMessageSent",
        RetryCount=2,
    )
    send(paused_http, channel, "one")
    for attempt, backoff in enumerate((1, 2), start=1):
        attempts(paused, attempt)
        clock.advance(backoff)
    attempts(paused, 3)
    clock.advance(60)  # no fourth attempt falls due: two retries were all it had
    send(paused_http, channel, "two")  # the next one is not held back by the failed one
    receiver.reply("/flaky", 200)
    records = receiver.wait_for(4, path="/flaky")
    assert [r.params["Body"] for r in records] == ["one", "one", "one", "two"]
    assert [r.params["RetryCount"] for r in records] == ["0", "1", "2", "0"]
    database = paused.app.api.settings.database
    failed = asyncio.run(recent_deliveries(database, "failed", 10))
    assert [(d.webhook_sid, d.attempts, d.retries) for d in failed] == [(made["sid"], 3, 2)]
    assert "channel webhook " + made["sid"] in _cli_log(database, "--state", "failed")


def test_retry_count_zero_tries_once(
    paused: ThreadedServer, paused_http: httpx.Client, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    receiver.reply("/once", 500)
    channel = channel_of(paused_http)
    hook(paused_http, channel, Type="webhook", Url=receiver.url("/once"), Filters="onMessageSent")
    send(paused_http, channel, "only once")
    attempts(paused, 1)
    clock.advance(60)
    send(paused_http, channel, "next")
    attempts(paused, 2)
    assert [r.params["Body"] for r in receiver.records] == ["only once", "next"]


def test_a_channel_keeps_its_order_while_its_webhook_is_down(
    paused: ThreadedServer, paused_http: httpx.Client, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    channel = channel_of(paused_http)
    hook(
        paused_http,
        channel,
        Type="webhook",
        Url=receiver.url("/ordered"),
        Filters="onMessageSent",
        RetryCount=3,
    )
    receiver.stop()
    for i in range(5):
        send(paused_http, channel, str(i))
    attempts(paused, 1)
    clock.advance(1)
    attempts(paused, 2)
    receiver.start()
    clock.advance(2)
    records = receiver.wait_for(5, timeout=30, path="/ordered")
    assert [r.params["Index"] for r in records] == ["0", "1", "2", "3", "4"]
    assert [r.params["RetryCount"] for r in records] == ["2", "0", "0", "0", "0"]


def test_a_backlog_survives_a_server_restart(databases: Databases) -> None:
    database = databases.new()
    env = server_env(
        CHINWAG_ACCOUNT_SID=ACCOUNT_SID,
        CHINWAG_AUTH_TOKEN=AUTH_TOKEN,
        CHINWAG_WEBHOOK_RETRY_BASE="2",
        CHINWAG_WEBHOOK_TIMEOUT="1",
    )
    receiver = WebhookReceiver()
    receiver.start()
    receiver.stop()  # down: every attempt before the restart is refused
    proc, base = spawn_server(database, env=env)
    try:
        with httpx.Client(base_url=base, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=30) as http:
            channel = channel_of(http)
            hook(
                http,
                channel,
                Type="webhook",
                Url=receiver.url("/kept"),
                Filters="onMessageSent",
                RetryCount=3,
            )
            for i in range(3):
                send(http, channel, str(i))
    finally:
        proc.kill()
        proc.wait()
    receiver.start()
    proc, _ = spawn_server(database, env=env)
    try:
        records = [signed(r) for r in receiver.wait_for(3, timeout=40, path="/kept")]
    finally:
        proc.kill()
        proc.wait()
        receiver.stop()
    assert [r.params["Body"] for r in records] == ["0", "1", "2"]


def test_the_plugin_fixture_makes_them_easy_to_assert(
    channel_webhook: ChannelWebhookFactory, twilio_client: Any, chinwag_server: Any
) -> None:
    service = twilio_client.chat.v1.services.create(friendly_name="plugin")
    channel = twilio_client.chat.v1.services(service.sid).channels.create(unique_name="lobby")
    messages = channel_webhook(service.sid, "lobby", ["onMessageSent"])
    words = channel_webhook(service.sid, channel.sid, type="trigger", triggers=["urgent"])
    credentials = (chinwag_server.account_sid, chinwag_server.auth_token)
    with httpx.Client(base_url=chinwag_server.url, auth=credentials) as http:
        path = f"/Services/{service.sid}/Channels/{channel.sid}"
        send(http, path, "routine")
        send(http, path, "Urgent: call me")
    assert [r.params["Body"] for r in messages.wait_for(2)] == ["routine", "Urgent: call me"]
    assert [r.params["Body"] for r in words.wait_for(1)] == ["Urgent: call me"]
    assert messages.events() == ["onMessageSent", "onMessageSent"]


def _cli_log(database: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "chinwag.cli", "webhooks", "log", "--database", database, *args],
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout

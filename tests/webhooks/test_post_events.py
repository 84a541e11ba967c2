"""Post-event webhooks fired by REST calls with ``X-Twilio-Webhook-Enabled: true``, delivered
by the outbox dispatcher to a real HTTP receiver and checked with twilio's RequestValidator."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from webhook_support import FIRE, POST_EVENTS, client, new_service, ok, signed, wait_recorded

from chinwag.clock import FakeClock
from chinwag.testing import ThreadedServer
from chinwag.testing.webhook_receiver import WebhookReceiver
from chinwag.webhooks.dispatcher import MAX_BACKOFF
from chinwag.webhooks.log import recent_deliveries
from conftest import ACCOUNT_SID, Databases, server_env, start_server

pytestmark = pytest.mark.server

MS_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(scope="module")
def hooked(databases: Databases) -> Iterator[ThreadedServer]:
    """One server for the tests that only watch events arrive."""
    srv = start_server(databases, webhook_timeout=1.0)
    yield srv
    srv.stop()


@pytest.fixture
def http(hooked: ThreadedServer) -> Iterator[httpx.Client]:
    with client(hooked.url) as c:
        yield c


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def paused(databases: Databases, clock: FakeClock) -> Iterator[ThreadedServer]:
    """A server on ``clock``: retries fall due only when the test steps it (backoff 1, 2, 4 s)."""
    srv = start_server(databases, clock=clock, webhook_timeout=1.0)
    yield srv
    srv.stop()


@pytest.fixture
def paused_http(paused: ThreadedServer) -> Iterator[httpx.Client]:
    with client(paused.url) as c:
        yield c


def hooked_service(http: httpx.Client, url: str) -> str:
    """A Service sending every post-event to ``url``."""
    return new_service(http, PostWebhookUrl=url, WebhookFilters=POST_EVENTS)


def common(params: dict[str, str], event: str, service: str) -> None:
    assert params["EventType"] == event
    assert params["AccountSid"] == ACCOUNT_SID
    assert params["InstanceSid"] == service
    assert params["Source"] == "API"
    assert params["RetryCount"] == "0"
    assert "ClientIdentity" not in params  # the REST API is no chat user
    for key in ("DateCreated", "DateUpdated", "DateRemoved", "DateDestroyed"):
        if key in params:
            assert MS_DATE.match(params[key]), params[key]


def test_every_post_event_arrives_signed_with_its_fields(
    http: httpx.Client, receiver: WebhookReceiver
) -> None:
    service = new_service(http, PostWebhookUrl=receiver.url("/post"), WebhookFilters=POST_EVENTS)
    base = f"/v1/Services/{service}"
    channel = ok(
        http.post(
            f"{base}/Channels",
            data={"FriendlyName": "room", "UniqueName": "room", "Attributes": '{"a":1}'},
            headers=FIRE,
        )
    )["sid"]
    ch = f"{base}/Channels/{channel}"
    ok(http.post(ch, data={"FriendlyName": "lobby"}, headers=FIRE), 200)
    member = ok(http.post(f"{ch}/Members", data={"Identity": "alice"}, headers=FIRE))
    message = ok(http.post(f"{ch}/Messages", data={"Body": "hi", "From": "alice"}, headers=FIRE))[
        "sid"
    ]
    ok(http.post(f"{ch}/Messages/{message}", data={"Body": "hello"}, headers=FIRE), 200)
    ok(http.delete(f"{ch}/Messages/{message}", headers=FIRE), 204)
    ok(http.post(f"{base}/Users/alice", data={"FriendlyName": "Alice"}, headers=FIRE), 200)
    ok(http.delete(f"{ch}/Members/alice", headers=FIRE), 204)
    ok(http.delete(ch, headers=FIRE), 204)

    records = [signed(r) for r in receiver.wait_for(9)]
    assert all(r.method == "POST" and r.path == "/post" for r in records)
    by_event = {r.params["EventType"]: r.params for r in records}
    assert sorted(by_event) == sorted(POST_EVENTS)
    for event, params in by_event.items():
        common(params, event, service)
    # one channel: delivered in commit order
    in_channel = [r.params["EventType"] for r in records if "ChannelSid" in r.params]
    assert in_channel == [e for e in POST_EVENTS_IN_FLOW if e != "onUserUpdated"]

    def keys(event: str) -> set[str]:
        return set(by_event[event]) - {
            "EventType",
            "AccountSid",
            "InstanceSid",
            "Source",
            "RetryCount",
        }

    message_keys = {"MessageSid", "Index", "ChannelSid", "Body", "From", "DateCreated"}
    assert keys("onMessageSent") == message_keys
    assert by_event["onMessageSent"]["Body"] == "hi"
    assert by_event["onMessageSent"]["Index"] == "0"
    assert keys("onMessageUpdated") == message_keys | {"ModifiedBy", "DateUpdated"}
    assert by_event["onMessageUpdated"]["Body"] == "hello"
    assert by_event["onMessageUpdated"]["ModifiedBy"] == "system"
    assert keys("onMessageRemoved") == message_keys | {"RemovedBy", "DateRemoved"}
    channel_keys = {
        "ChannelSid",
        "ChannelType",
        "FriendlyName",
        "UniqueName",
        "Attributes",
        "CreatedBy",
        "DateCreated",
    }
    assert keys("onChannelAdded") == channel_keys
    assert by_event["onChannelAdded"]["Attributes"] == '{"a":1}'
    assert by_event["onChannelAdded"]["ChannelType"] == "public"
    assert keys("onChannelUpdated") == channel_keys | {"DateUpdated"}
    assert by_event["onChannelUpdated"]["FriendlyName"] == "lobby"
    assert keys("onChannelDestroyed") == channel_keys | {"DateDestroyed"}
    member_keys = {"MemberSid", "ChannelSid", "Identity", "RoleSid", "Reason", "DateCreated"}
    assert keys("onMemberAdded") == member_keys
    assert by_event["onMemberAdded"]["MemberSid"] == member["sid"]
    assert by_event["onMemberAdded"]["Reason"] == "ADDED"
    assert keys("onMemberRemoved") == member_keys | {"DateRemoved"}
    assert by_event["onMemberRemoved"]["Reason"] == "REMOVED"
    assert keys("onUserUpdated") == {
        "UserSid",
        "Identity",
        "FriendlyName",
        "RoleSid",
        "DateCreated",
        "DateUpdated",
    }
    assert by_event["onUserUpdated"]["FriendlyName"] == "Alice"


POST_EVENTS_IN_FLOW = [
    "onChannelAdded",
    "onChannelUpdated",
    "onMemberAdded",
    "onMessageSent",
    "onMessageUpdated",
    "onMessageRemoved",
    "onUserUpdated",
    "onMemberRemoved",
    "onChannelDestroyed",
]


def test_rest_calls_without_the_header_fire_nothing(
    http: httpx.Client, receiver: WebhookReceiver
) -> None:
    service = new_service(http, PostWebhookUrl=receiver.url("/post"), WebhookFilters=POST_EVENTS)
    ok(http.post(f"/v1/Services/{service}/Channels", data={"UniqueName": "quiet"}))
    ok(http.post(f"/v1/Services/{service}/Channels", data={"UniqueName": "loud"}, headers=FIRE))
    receiver.wait_for(1)
    time.sleep(0.3)
    assert [r.params["UniqueName"] for r in receiver.records] == ["loud"]


def test_filters_per_event_urls_and_get(http: httpx.Client, receiver: WebhookReceiver) -> None:
    """Both mechanisms fire independently; the global URL only for filtered events; GET puts
    the parameters in a signed query string."""
    service = new_service(
        http,
        PostWebhookUrl=receiver.url("/global?tenant=7"),
        WebhookMethod="GET",
        WebhookFilters=["onMessageSent"],
        **{
            "Webhooks.OnChannelAdded.Url": receiver.url("/channel-added"),
            "Webhooks.OnMessageSent.Url": receiver.url("/message-sent"),
            "Webhooks.OnMessageSent.Method": "POST",
        },
    )
    channel = ok(http.post(f"/v1/Services/{service}/Channels", headers=FIRE))["sid"]
    receiver.wait_for(1)
    ch = f"/v1/Services/{service}/Channels/{channel}"
    ok(http.post(f"{ch}/Messages", data={"Body": "x"}, headers=FIRE))
    records = [signed(r) for r in receiver.wait_for(3)]
    time.sleep(0.3)
    assert len(receiver.records) == 3
    by_path = {r.path: r for r in records}
    assert set(by_path) == {"/channel-added", "/global", "/message-sent"}
    assert by_path["/channel-added"].method == "POST"
    assert by_path["/channel-added"].params["EventType"] == "onChannelAdded"
    get = by_path["/global"]
    assert get.method == "GET" and get.body == b""
    assert get.params["tenant"] == "7" and get.params["EventType"] == "onMessageSent"
    assert by_path["/message-sent"].method == "POST"


def test_failures_are_retried_in_order_with_retry_count(
    paused: ThreadedServer, paused_http: httpx.Client, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    receiver.reply("/post", 503)
    service = hooked_service(paused_http, receiver.url("/post"))
    channel = ok(paused_http.post(f"/v1/Services/{service}/Channels"))["sid"]
    for body in ("one", "two", "three"):
        path = f"/v1/Services/{service}/Channels/{channel}/Messages"
        ok(paused_http.post(path, data={"Body": body}, headers=FIRE))
    for attempt, backoff in enumerate((1, 2), start=1):
        wait_recorded(paused.url, attempt)
        clock.advance(backoff)
    wait_recorded(paused.url, 3)  # the first message, tried three times; the others wait
    receiver.reply("/post", 200)
    clock.advance(4)
    records = receiver.wait_for(6, timeout=30)
    assert [r.params["Body"] for r in records] == ["one", "one", "one", "one", "two", "three"]
    assert [r.params["RetryCount"] for r in records] == ["0", "1", "2", "3", "0", "0"]


def test_a_retry_is_due_after_its_backoff_on_the_clock(
    paused: ThreadedServer, paused_http: httpx.Client, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    receiver.reply("/post", 503)
    service = hooked_service(paused_http, receiver.url("/post"))
    ok(paused_http.post(f"/v1/Services/{service}/Channels", headers=FIRE))
    wait_recorded(paused.url, 1)
    (pending,) = asyncio.run(recent_deliveries(paused.app.api.settings.database, "pending", 9))
    assert (pending.attempts, pending.next_attempt_at) == (1, clock.now_ms() + 1000)
    receiver.reply("/post", 200)
    clock.advance(1)
    assert receiver.wait_for(2)[-1].params["RetryCount"] == "1"


def test_receiver_down_then_up_gets_everything_in_order(
    paused: ThreadedServer, paused_http: httpx.Client, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    service = hooked_service(paused_http, receiver.url("/post"))
    channel = ok(paused_http.post(f"/v1/Services/{service}/Channels"))["sid"]
    receiver.stop()
    for i in range(5):
        path = f"/v1/Services/{service}/Channels/{channel}/Messages"
        ok(paused_http.post(path, data={"Body": str(i)}, headers=FIRE))
    for attempt, backoff in enumerate((1, 2, 4), start=1):  # refused, refused, refused
        wait_recorded(paused.url, attempt)
        clock.advance(backoff)
    wait_recorded(paused.url, 4)
    receiver.start()
    clock.advance(8)
    records = receiver.wait_for(5, timeout=30)
    assert [r.params["Index"] for r in records] == ["0", "1", "2", "3", "4"]
    assert [r.params["RetryCount"] for r in records] == ["4", "0", "0", "0", "0"]


def webhooks_log(database: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "chinwag.cli", "webhooks", "log", "--database", database, *args],
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_client_error_is_not_retried_and_shows_in_the_log(
    paused: ThreadedServer, paused_http: httpx.Client, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    receiver.reply("/gone", 404)
    service = hooked_service(paused_http, receiver.url("/gone"))
    ok(paused_http.post(f"/v1/Services/{service}/Channels", headers=FIRE))
    wait_recorded(paused.url, 1)
    clock.advance(MAX_BACKOFF)
    # another channel's event: by the time it is recorded, the dispatcher has claimed after the
    # step, and a retry, had one been scheduled, would be due in that claim
    ok(paused_http.post(f"/v1/Services/{service}/Channels", headers=FIRE))
    wait_recorded(paused.url, 2)
    assert [r.params["RetryCount"] for r in receiver.records] == ["0", "0"]
    database = paused.app.api.settings.database
    out = webhooks_log(database, "--state", "failed")
    line = next(line for line in out.splitlines() if receiver.url("/gone") in line)
    assert "onChannelAdded" in line and "attempts=1" in line and "failed" in line
    assert "HTTP 404" in line
    assert '"last_status":404' in webhooks_log(database, "--state", "failed", "--json")


def test_outbox_depth_is_a_metric(hooked: ThreadedServer, http: httpx.Client) -> None:
    text = httpx.get(f"{hooked.url}/metrics").text
    assert "chinwag_webhook_outbox_pending " in text
    assert "chinwag_webhook_attempts_total" in text


def test_private_targets_can_be_blocked(databases: Databases, receiver: WebhookReceiver) -> None:
    srv = start_server(databases, webhook_block_private=True)
    with client(srv.url) as http:
        service = new_service(
            http, PostWebhookUrl=receiver.url("/post"), WebhookFilters=POST_EVENTS
        )
        ok(http.post(f"/v1/Services/{service}/Channels", headers=FIRE))
        database = srv.app.api.settings.database
        deadline = time.monotonic() + 10
        while "blocked" not in (out := webhooks_log(database, "--state", "failed")):
            assert time.monotonic() < deadline, out
            time.sleep(0.1)
    srv.stop()
    assert receiver.records == []

"""Pre-event webhooks: veto, modification, timeout, and no transaction held while waiting.

REST calls fire pre-events only when the operator turned ``webhook_rest_pre_events`` on,
which is how these tests reach the pipeline over HTTP.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from webhook_support import FIRE, PRE_EVENTS, client, new_service, ok, signed

from chinwag.testing import ThreadedServer
from chinwag.testing.webhook_receiver import WebhookReceiver
from conftest import ACCOUNT_SID, Databases, start_server
from sdk_support import expect_http_error

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def moderated(databases: Databases) -> Iterator[ThreadedServer]:
    srv = start_server(databases, webhook_rest_pre_events=True, webhook_timeout=1.0)
    yield srv
    srv.stop()


@pytest.fixture
def http(moderated: ThreadedServer) -> Iterator[httpx.Client]:
    with client(moderated.url) as c:
        yield c


def moderated_channel(http: httpx.Client, receiver: WebhookReceiver) -> str:
    """A channel path in a new service whose pre-events all go to ``/pre``."""
    service = new_service(http, PreWebhookUrl=receiver.url("/pre"), WebhookFilters=PRE_EVENTS)
    channel = ok(http.post(f"/v1/Services/{service}/Channels"))["sid"]
    receiver.wait_for(1)  # onChannelAdd
    return f"/v1/Services/{service}/Channels/{channel}"


def test_a_non_200_answer_vetoes_the_action(http: httpx.Client, receiver: WebhookReceiver) -> None:
    ch = moderated_channel(http, receiver)
    receiver.reply("/pre", 403)
    response = http.post(f"{ch}/Messages", data={"Body": "spam", "From": "bob"})
    expect_http_error(response, 403, 50056)
    assert http.get(f"{ch}/Messages").json()["messages"] == []
    params = signed(receiver.wait_for(2)[-1]).params
    assert params["EventType"] == "onMessageSend"
    assert params["Body"] == "spam" and params["From"] == "bob"
    assert params["ChannelSid"] == ch.rsplit("/", 1)[1]
    assert params["AccountSid"] == ACCOUNT_SID and params["Source"] == "API"
    assert "MessageSid" not in params and "Index" not in params


def test_the_answer_may_change_the_message(http: httpx.Client, receiver: WebhookReceiver) -> None:
    ch = moderated_channel(http, receiver)
    receiver.reply("/pre", 200, json={"body": "[redacted]", "attributes": {"flagged": True}})
    message = ok(http.post(f"{ch}/Messages", data={"Body": "rude words"}))
    assert message["body"] == "[redacted]"
    assert http.get(f"{ch}/Messages/{message['sid']}").json()["attributes"] == ('{"flagged":true}')
    receiver.reply("/pre", 200, json={"body": "edited by bot"})
    updated = ok(http.post(f"{ch}/Messages/{message['sid']}", data={"Body": "x"}), 200)
    assert updated["body"] == "edited by bot"
    update = receiver.records[-1].params
    assert update["EventType"] == "onMessageUpdate" and update["Body"] == "x"
    assert update["ModifiedBy"] == "system" and update["MessageSid"] == message["sid"]


def test_the_answer_may_change_a_new_channel(http: httpx.Client, receiver: WebhookReceiver) -> None:
    service = new_service(http, PreWebhookUrl=receiver.url("/pre"), WebhookFilters=PRE_EVENTS)
    receiver.reply("/pre", 200, json={"friendlyName": "Renamed", "uniqueName": "renamed"})
    channel = ok(http.post(f"/v1/Services/{service}/Channels", data={"FriendlyName": "orig"}))
    assert (channel["friendly_name"], channel["unique_name"]) == ("Renamed", "renamed")
    params = receiver.records[-1].params
    assert params["EventType"] == "onChannelAdd" and params["FriendlyName"] == "orig"
    assert "ChannelSid" not in params


def test_a_timeout_vetoes_the_action(http: httpx.Client, receiver: WebhookReceiver) -> None:
    ch = moderated_channel(http, receiver)
    receiver.reply("/pre", 200, delay=2.0)  # the server waits 1 s
    expect_http_error(http.post(f"{ch}/Messages", data={"Body": "slow"}), 403, 50056)
    receiver.reply("/pre", 200)
    assert http.get(f"{ch}/Messages").json()["messages"] == []


def test_removals_can_be_vetoed(http: httpx.Client, receiver: WebhookReceiver) -> None:
    ch = moderated_channel(http, receiver)
    ok(http.post(f"{ch}/Members", data={"Identity": "carol"}))
    receiver.reply("/pre", 500)
    expect_http_error(http.delete(f"{ch}/Members/carol"), 403, 50056)
    expect_http_error(http.delete(ch), 403, 50056)
    assert http.get(f"{ch}/Members/carol").status_code == 200
    events = [r.params["EventType"] for r in receiver.records]
    assert events[-2:] == ["onMemberRemove", "onChannelDestroy"]
    assert receiver.records[-2].params["Reason"] == "REMOVED"


def test_no_transaction_is_held_while_the_endpoint_thinks(
    http: httpx.Client, receiver: WebhookReceiver, moderated: ThreadedServer
) -> None:
    """A slow pre-event in one service does not stall writes anywhere else (on SQLite a held
    write transaction would block every other writer of the database)."""
    ch = moderated_channel(http, receiver)
    other = new_service(http)
    receiver.reply("/pre", 200, delay=0.8)
    slow_done = threading.Event()

    def slow() -> None:
        with client(moderated.url) as c:
            ok(c.post(f"{ch}/Messages", data={"Body": "waiting"}))
        slow_done.set()

    thread = threading.Thread(target=slow)
    thread.start()
    receiver.wait_for(2)  # the slow pre-event is being answered now
    ok(http.post(f"/v1/Services/{other}/Channels", data={"UniqueName": "meanwhile"}))
    assert not slow_done.is_set()
    thread.join()
    assert slow_done.is_set()


def test_rest_pre_events_are_off_by_default(
    databases: Databases, receiver: WebhookReceiver
) -> None:
    srv = start_server(databases)
    try:
        with client(srv.url) as http:
            service = new_service(
                http, PreWebhookUrl=receiver.url("/pre"), WebhookFilters=PRE_EVENTS
            )
            receiver.reply("/pre", 403)
            ok(http.post(f"/v1/Services/{service}/Channels", headers=FIRE))
    finally:
        srv.stop()
    assert receiver.records == []

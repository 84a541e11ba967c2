"""One resource, two versions: what v1 creates v2 shows, and the reverse; v1's shapes stay v1's.

Why: v2 is served from the same domain and data as v1, so an app moving from one helper
library version to another (or using both) sees the same channels, members and messages.
Also here: REST writes fire post-event webhooks only with ``X-Twilio-Webhook-Enabled: true``,
which v2's helper libraries can send (v1's cannot).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from chinwag.testing import WebhookReceiver
from chinwag.testing.webhook_receiver import validate_signature
from conftest import AUTH_TOKEN

pytestmark = pytest.mark.server


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_created_through_v1_is_fetched_through_v2(http: httpx.Client) -> None:
    service = _ok(http.post("/v1/Services", data={"FriendlyName": "one"}), 201)["sid"]
    channel = _ok(http.post(f"/v1/Services/{service}/Channels", data={"UniqueName": "c1"}), 201)
    member = _ok(
        http.post(f"/v1/Services/{service}/Channels/c1/Members", data={"Identity": "u"}), 201
    )
    message = _ok(
        http.post(f"/v1/Services/{service}/Channels/c1/Messages", data={"Body": "b"}), 201
    )

    v2 = f"/v2/Services/{service}/Channels/{channel['sid']}"
    seen = _ok(http.get(v2))
    assert {k: seen[k] for k in ("sid", "unique_name", "members_count", "messages_count")} == {
        "sid": channel["sid"],
        "unique_name": "c1",
        "members_count": 1,
        "messages_count": 1,
    }
    assert seen["url"] == str(channel["url"]).replace("/v1/", "/v2/")
    as_v2 = _ok(http.get(f"{v2}/Members/{member['sid']}"))
    assert (as_v2["identity"], as_v2["attributes"]) == ("u", "{}")
    shown = _ok(http.get(f"{v2}/Messages/{message['sid']}"))
    assert (shown["body"], shown["type"], shown["last_updated_by"]) == ("b", "text", None)
    [row] = _ok(http.get(f"/v2/Services/{service}/Users/u/Channels"))["channels"]
    assert (row["channel_sid"], row["member_sid"]) == (channel["sid"], member["sid"])


def test_created_through_v2_is_fetched_through_v1_in_v1s_shapes(http: httpx.Client) -> None:
    service = _ok(http.post("/v2/Services", data={"FriendlyName": "two"}), 201)["sid"]
    _ok(
        http.post(
            f"/v2/Services/{service}",
            data={"Notifications.NewMessage.Sound": "ding", "PreWebhookRetryCount": "1"},
        )
    )
    v1_service = _ok(http.get(f"/v1/Services/{service}"))
    assert "media" not in v1_service and "pre_webhook_retry_count" not in v1_service
    assert v1_service["notifications"]["new_message"] == {"enabled": False}
    assert v1_service["webhooks"] == {}

    channels = f"/v2/Services/{service}/Channels"
    channel = _ok(http.post(channels, data={"UniqueName": "c2", "CreatedBy": "importer"}), 201)
    _ok(http.post(f"{channels}/c2/Members", data={"Identity": "u", "Attributes": '{"a": 1}'}), 201)
    _ok(
        http.post(
            f"/v2/Services/{service}/Users/u/Channels/c2", data={"NotificationLevel": "muted"}
        )
    )
    sent = _ok(http.post(f"{channels}/c2/Messages", data={"Body": "x", "LastUpdatedBy": "u"}), 201)

    listed = _ok(http.get(channels))["channels"]
    assert [c["attributes"] for c in listed] == ["{}"]  # v2 lists show them; v1 lists do not
    assert [
        c["attributes"] for c in _ok(http.get(f"/v1/Services/{service}/Channels"))["channels"]
    ] == [None]
    v1 = f"/v1/Services/{service}/Channels/{channel['sid']}"
    assert _ok(http.get(v1))["created_by"] == "importer"
    member = _ok(http.get(f"{v1}/Members/u"))
    assert "attributes" not in member  # v1's Member has none, whatever v2 stored
    assert member["url"] == f"{http.base_url}{v1}/Members/{member['sid']}"
    message = _ok(http.get(f"{v1}/Messages/{sent['sid']}"))
    assert "last_updated_by" not in message and "type" not in message
    [row] = _ok(http.get(f"/v1/Services/{service}/Users/u/Channels"))["channels"]
    assert set(row) == {
        "account_sid",
        "service_sid",
        "channel_sid",
        "member_sid",
        "status",
        "last_consumed_message_index",
        "unread_messages_count",
        "links",
    }
    # and v2 reads back what v2 wrote, from the same rows
    assert (
        _ok(http.get(f"/v2/Services/{service}/Users/u/Channels/c2"))["notification_level"]
        == "muted"
    )
    assert _ok(http.get(f"{channels}/c2/Members/u"))["attributes"] == '{"a": 1}'


def test_rest_writes_fire_webhooks_only_when_asked(
    http: httpx.Client, receiver: WebhookReceiver
) -> None:
    service = _ok(http.post("/v2/Services", data={"FriendlyName": "hooks"}), 201)["sid"]
    _ok(
        http.post(
            f"/v2/Services/{service}",
            data={"PostWebhookUrl": receiver.url(), "WebhookFilters": "onMessageSent"},
        )
    )
    channel = _ok(http.post(f"/v2/Services/{service}/Channels"), 201)["sid"]
    messages = f"/v2/Services/{service}/Channels/{channel}/Messages"
    _ok(http.post(messages, data={"Body": "quiet"}), 201)
    _ok(
        http.post(
            messages, data={"Body": "also quiet"}, headers={"X-Twilio-Webhook-Enabled": "false"}
        ),
        201,
    )
    _ok(
        http.post(messages, data={"Body": "loud"}, headers={"X-Twilio-Webhook-Enabled": "true"}),
        201,
    )
    [record] = receiver.wait_for(1)
    time.sleep(0.3)  # a delivery of the quiet ones would have arrived by now
    assert [r.params["Body"] for r in receiver.records] == ["loud"]
    assert record.params["EventType"] == "onMessageSent"
    assert validate_signature(record, AUTH_TOKEN)

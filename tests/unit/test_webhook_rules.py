"""Pure rules of the webhook pipeline: dates, routing of events to URLs, member reasons."""

from __future__ import annotations

import pytest

from chinwag.model.events import Actor
from chinwag.model.records import Member, Service, WebhookTarget
from chinwag.webhooks.payloads import member_reason, webhook_date
from chinwag.webhooks.subscriptions import snake, targets

pytestmark = pytest.mark.unit


def service(**settings: object) -> Service:
    return Service("IS1", "AC1", "s", 0, 0, None, None, None, **settings)  # type: ignore[arg-type]


def test_webhook_dates_carry_milliseconds() -> None:
    assert webhook_date(0) == "1970-01-01T00:00:00.000Z"
    assert webhook_date(1_584_205_484_742) == "2020-03-14T17:04:44.742Z"
    assert webhook_date(1_584_205_484_007) == "2020-03-14T17:04:44.007Z"


def test_event_names_map_to_the_webhooks_object_keys() -> None:
    assert snake("onMessageSend") == "on_message_send"
    assert snake("onChannelDestroyed") == "on_channel_destroyed"


def test_nothing_configured_means_no_targets() -> None:
    assert targets(service(), "onMessageSent") == []


def test_global_urls_need_the_event_in_the_filters() -> None:
    s = service(
        pre_webhook_url="http://pre",
        post_webhook_url="http://post",
        webhook_filters=("onMessageSend", "onChannelAdded"),
    )
    assert targets(s, "onMessageSend") == [("http://pre", "POST")]
    assert targets(s, "onChannelAdded") == [("http://post", "POST")]
    assert targets(s, "onMessageSent") == []
    assert targets(s, "onChannelAdd") == []


def test_per_event_and_global_urls_fire_independently() -> None:
    s = service(
        post_webhook_url="http://post",
        webhook_method="GET",
        webhook_filters=("onMessageSent",),
        webhooks={"on_message_sent": WebhookTarget("http://post", "POST")},
    )
    assert targets(s, "onMessageSent") == [("http://post", "POST"), ("http://post", "GET")]


def test_own_membership_changes_are_joins_and_leaves() -> None:
    member = Member("MB1", "AC1", "IS1", "CH1", "alice", None, None, None, 0, 0)
    assert member_reason(Actor("SDK", "alice"), member, True) == "JOINED"
    assert member_reason(Actor("SDK", "alice"), member, False) == "LEFT"
    assert member_reason(Actor("SDK", "bob"), member, True) == "ADDED"
    assert member_reason(Actor("API"), member, False) == "REMOVED"

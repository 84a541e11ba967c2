"""The pure rules of channel webhooks: which events a webhook hears, trigger-word matching,
what each type keeps of its configuration, and how often a delivery may be retried."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chinwag import errors
from chinwag.domain.channel_webhooks import EVENTS, check_webhook, fires
from chinwag.model.records import ChannelWebhook, Delivery
from chinwag.webhooks.dispatcher import retry_limit

pytestmark = pytest.mark.unit

BASE = ChannelWebhook(
    sid="WH" + "0" * 32,
    account_sid="AC" + "0" * 32,
    service_sid="IS" + "0" * 32,
    channel_sid="CH" + "0" * 32,
    type="webhook",
    url="https://example.com/hook",
    method=None,
    filters=("onMessageSent",),
    triggers=(),
    flow_sid=None,
    retry_count=0,
    date_created=0,
    date_updated=0,
)
TRIGGER = replace(BASE, type="trigger", filters=(), triggers=("help", "on fire", "c++"))


@pytest.mark.parametrize("event", EVENTS)
def test_a_webhook_hears_exactly_its_filters(event: str) -> None:
    hook = replace(BASE, filters=(event,))
    assert [e for e in EVENTS if fires(hook, e, "x")] == [event]


@pytest.mark.parametrize(
    ("body", "heard"),
    [
        ("help", True),
        ("HELP me", True),
        ("I need help.", True),
        ("helpful", False),
        ("self-help", True),
        ("the house is on fire!", True),
        ("on  fire", False),
        ("fire on", False),
        ("I write C++ daily", True),
        ("", False),
    ],
)
def test_trigger_words_match_whole_words_in_any_case(body: str, heard: bool) -> None:
    assert fires(TRIGGER, "onMessageSent", body) is heard


def test_a_trigger_hears_new_messages_only_and_studio_nothing() -> None:
    assert not fires(TRIGGER, "onMessageUpdated", "help")
    assert not fires(TRIGGER, "onMessageSent", None)
    studio = replace(BASE, type="studio", url=None, flow_sid="FW" + "1" * 32)
    assert not any(fires(studio, e, "help") for e in EVENTS)


def test_each_type_keeps_what_it_uses() -> None:
    mixed = replace(BASE, triggers=("x",), flow_sid="FW" + "1" * 32)
    webhook = check_webhook(mixed)
    assert (webhook.method, webhook.triggers, webhook.flow_sid) == ("POST", (), None)
    trigger = check_webhook(replace(mixed, type="trigger"))
    assert (trigger.filters, trigger.triggers, trigger.flow_sid) == ((), ("x",), None)
    studio = check_webhook(replace(mixed, type="studio"))
    assert (studio.url, studio.method, studio.triggers) == (None, None, ())
    assert studio.filters == ("onMessageSent",)


def test_duplicates_are_kept_once_in_order() -> None:
    hook = check_webhook(replace(BASE, filters=("onMemberAdded", "onMessageSent", "onMemberAdded")))
    assert hook.filters == ("onMemberAdded", "onMessageSent")
    words = check_webhook(replace(TRIGGER, triggers=("a", "b", "a", "c", "d", "e")))
    assert words.triggers == ("a", "b", "c", "d", "e")


def test_trigger_limits() -> None:
    with pytest.raises(errors.TooManyTriggersError):
        check_webhook(replace(TRIGGER, triggers=tuple("abcdef")))
    with pytest.raises(errors.InvalidChannelWebhookTriggerError):
        check_webhook(replace(TRIGGER, triggers=("x" * 257,)))


def test_a_delivery_retries_as_its_webhook_says_else_as_the_server_does() -> None:
    service_delivery = Delivery(
        "AC",
        "IS",
        "onMessageSent",
        "k",
        "https://x",
        "POST",
        {},
        1,
        "pending",
        0,
        0,
        None,
        None,
        0,
        0,
    )
    assert retry_limit(service_delivery, 8) == 8
    assert retry_limit(replace(service_delivery, retries=0), 8) == 0
    assert retry_limit(replace(service_delivery, retries=3), 8) == 3

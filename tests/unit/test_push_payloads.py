"""Push payloads: the keys the SDK reads, strings only for FCM, bodies cut to fit 4096 bytes."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chinwag.push.payloads import (
    APNS_MAX_BYTES,
    ELLIPSIS,
    FCM_MAX_BYTES,
    Notice,
    apns_payload,
    fcm_message,
    fit,
)

pytestmark = pytest.mark.unit

CHANNEL = "CH" + "1" * 32
MESSAGE = "IM" + "2" * 32

NEW_MESSAGE = Notice(
    kind="new_message",
    body="general;alice: hi",
    channel_sid=CHANNEL,
    channel_title="general",
    message_sid=MESSAGE,
    message_index=49,
    author="alice",
    sound="default",
    badge=3,
    push_id="RU" + "3" * 32,
)


def test_fcm_new_message_is_a_data_message_of_strings() -> None:
    body = fcm_message("device-token", NEW_MESSAGE)
    message = body["message"]
    assert message["token"] == "device-token"
    assert "notification" not in message
    assert message["android"] == {"priority": "high"}
    assert message["data"] == {
        "twi_message_type": "twilio.channel.new_message",
        "twi_message_id": "RU" + "3" * 32,
        "twi_body": "general;alice: hi",
        "twi_sound": "default",
        "channel_sid": CHANNEL,
        "channel_id": CHANNEL,
        "channel_title": "general",
        "message_sid": MESSAGE,
        "message_id": MESSAGE,
        "message_index": "49",
        "author": "alice",
    }
    assert all(isinstance(v, str) for v in message["data"].values())


def test_apns_new_message_has_aps_and_the_chat_keys_at_the_root() -> None:
    payload = orjson.loads(apns_payload(NEW_MESSAGE))
    assert payload == {
        "aps": {"alert": {"body": "general;alice: hi"}, "sound": "default", "badge": 3},
        "twi_message_type": "twilio.channel.new_message",
        "twi_message_id": "RU" + "3" * 32,
        "channel_sid": CHANNEL,
        "channel_id": CHANNEL,
        "channel_title": "general",
        "message_sid": MESSAGE,
        "message_id": MESSAGE,
        "message_index": "49",
        "author": "alice",
    }


def test_membership_pushes_carry_the_channel_only_and_no_unset_sound_or_badge() -> None:
    notice = Notice("removed_from_channel", "bye", CHANNEL, "general")
    data = fcm_message("t", notice)["message"]["data"]
    assert data == {
        "twi_message_type": "twilio.channel.removed_from_channel",
        "twi_body": "bye",
        "channel_sid": CHANNEL,
        "channel_id": CHANNEL,
        "channel_title": "general",
    }
    assert orjson.loads(apns_payload(notice))["aps"] == {"alert": {"body": "bye"}}


def test_a_long_body_is_cut_to_fit_each_provider() -> None:
    notice = Notice("new_message", 'é"\n' * 5000, CHANNEL, "general", MESSAGE, 1, "alice")
    apns = apns_payload(notice)
    assert len(apns) <= APNS_MAX_BYTES
    body = orjson.loads(apns)["aps"]["alert"]["body"]
    assert body.endswith(ELLIPSIS) and notice.body.startswith(body[:-1])
    assert len(apns) > APNS_MAX_BYTES - 16  # as much as fits, not a fixed short cut
    data = fcm_message("t", notice)["message"]["data"]
    assert len(orjson.dumps(data)) <= FCM_MAX_BYTES
    assert data["twi_body"].endswith(ELLIPSIS) and data["message_sid"] == MESSAGE


def test_a_body_that_fits_is_left_whole() -> None:
    notice = Notice("new_message", "x" * 3000, CHANNEL, "general")
    assert orjson.loads(apns_payload(notice))["aps"]["alert"]["body"] == "x" * 3000


@given(st.text(max_size=600), st.integers(min_value=1, max_value=800))
def test_fit_returns_the_longest_prefix_that_fits(body: str, limit: int) -> None:
    def size(text: str) -> int:
        return len(orjson.dumps(text))

    cut = fit(body, size, limit)
    if size(body) <= limit:
        assert cut == body
    elif size(ELLIPSIS) > limit:
        assert cut == ""
    else:
        assert cut.endswith(ELLIPSIS) and body.startswith(cut[: -len(ELLIPSIS)])
        assert size(cut) <= limit
        longer = body[: len(cut)] + ELLIPSIS  # one more character of the body
        assert size(longer) > limit

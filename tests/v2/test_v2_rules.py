"""The pure rules of v2: ISO 8601 overrides, v2's form parsing, and the v2 shapes against the
spec's schemas, in-process.

Why: the server tests show each rule once through the wire; these pin the edges (offsets,
date-only text, the range of a Twilio date, empty values) cheaply.
"""

from __future__ import annotations

from typing import Any

import pytest

from chinwag import errors
from chinwag.api.dates import parse_iso
from chinwag.api.forms import Form
from chinwag.http import commands, commands_v2
from chinwag.http.render_v2 import V2Renderer
from chinwag.model.records import (
    Member,
    Message,
    MessageMedia,
    Notification,
    Service,
    UserChannel,
)
from chinwag.model.unset import UNSET
from spec_contract import _check_object, load_spec

pytestmark = pytest.mark.unit

BASE = "https://chat.example"
SERVICE = Service("IS" + "a" * 32, "AC" + "a" * 32, "s", 0, 1000, None, None, None)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2016-03-24T21:05:50Z", 1_458_853_550_000),
        ("2016-03-24T23:05:50+02:00", 1_458_853_550_000),
        ("2016-03-24T21:05:50.250Z", 1_458_853_550_250),
        ("2016-03-24T21:05:50", 1_458_853_550_000),
        ("2016-03-24", 1_458_777_600_000),
        ("1970-01-01T00:00:00Z", 0),
    ],
)
def test_iso_dates_parse_to_milliseconds(text: str, ms: int) -> None:
    assert parse_iso(text) == ms


@pytest.mark.parametrize("text", ["", "yesterday", "1969-12-31T23:59:59Z", "2016-13-01"])
def test_what_is_no_date_is_refused(text: str) -> None:
    assert parse_iso(text) is None


def test_v2_service_form_ignores_webhooks_and_reads_v2_settings() -> None:
    form = Form(
        [
            ("Webhooks.OnMessageSend.Url", "https://example.com"),
            ("Notifications.NewMessage.Sound", "ding"),
            ("Notifications.AddedToChannel.BadgeCountEnabled", "true"),
            ("Notifications.LogEnabled", "true"),
            ("PreWebhookRetryCount", "3"),
        ]
    )
    v2 = commands.update_service(form, v2=True)
    assert v2.webhooks == {}
    assert v2.notifications["new_message"].sound == "ding"
    # only new messages have a badge count: the parameter of another kind is not read
    assert "added_to_channel" not in v2.notifications
    assert (v2.notifications_log_enabled, v2.pre_webhook_retry_count) == (True, 3)
    v1 = commands.update_service(form)
    assert set(v1.webhooks) == {"on_message_send"}
    assert v1.notifications_log_enabled is UNSET


def test_v2_message_forms() -> None:
    created = commands_v2.create_message(Form([("MediaSid", "ME" + "0" * 32)]))
    assert (created.body, created.media_sid, created.date_created) == ("", "ME" + "0" * 32, None)
    updated = commands_v2.update_message(Form([("From", "bob"), ("LastUpdatedBy", "")]))
    assert (updated.from_, updated.last_updated_by, updated.body) == ("bob", None, UNSET)


def test_v2_member_and_user_channel_forms() -> None:
    member = commands_v2.create_member(
        Form([("Identity", "a"), ("LastConsumedMessageIndex", "4"), ("DateCreated", "")])
    )
    assert (member.last_consumed_message_index, member.date_created) == (4, None)
    with pytest.raises(errors.InvalidConsumedIndexError):
        commands_v2.create_member(Form([("Identity", "a"), ("LastConsumedMessageIndex", "x")]))
    cleared = commands_v2.update_user_channel(Form([("LastConsumedMessageIndex", "")]))
    assert (cleared.last_consumed_message_index, cleared.notification_level) == (None, UNSET)
    with pytest.raises(errors.InvalidParameterError) as raised:
        commands_v2.update_member(Form([("DateUpdated", "soon")]))
    assert raised.value.message.startswith("DateUpdated must be an ISO 8601 date")


def _conforms(body: dict[str, Any], schema: str) -> list[str]:
    spec = load_spec("v2")
    return _check_object(body, spec["components"]["schemas"][schema], "$", spec)


def test_v2_shapes_are_the_spec_schemas() -> None:
    shapes = V2Renderer(150 * 1024 * 1024)
    service = SERVICE.__class__(
        **{
            **{f: getattr(SERVICE, f) for f in SERVICE.__dataclass_fields__},
            "notifications": {
                "new_message": Notification(True, "t", "ding", True),
                "added_to_channel": Notification(),
                "invited_to_channel": Notification(),
                "removed_from_channel": Notification(),
            },
        }
    )
    shown = shapes.service(service, BASE)
    assert _conforms(shown, "chat.v2.service") == []
    assert shown["media"]["size_limit_mb"] == 150
    assert shown["notifications"]["new_message"] == {
        "enabled": True,
        "template": "t",
        "sound": "ding",
        "badge_count_enabled": True,
    }
    member = Member(
        "MB" + "a" * 32,
        SERVICE.account_sid,
        SERVICE.sid,
        "CH" + "a" * 32,
        "a",
        None,
        None,
        None,
        0,
        0,
    )
    assert _conforms(shapes.member(member, BASE), "chat.v2.service.channel.member") == []
    media = MessageMedia("ME" + "a" * 32, None, "image/png", 3)
    message = Message(
        "IM" + "a" * 32,
        SERVICE.account_sid,
        SERVICE.sid,
        member.channel_sid,
        0,
        "a",
        "",
        None,
        False,
        0,
        0,
        media,
        "a",
    )
    shown = shapes.message(message, BASE)
    assert _conforms(shown, "chat.v2.service.channel.message") == []
    assert (shown["type"], shown["media"]["filename"]) == ("media", None)
    row = UserChannel(
        SERVICE.account_sid,
        SERVICE.sid,
        member.channel_sid,
        member.sid,
        "joined",
        0,
        0,
        "muted",
        "US" + "a" * 32,
    )
    shown = shapes.user_channel(row, BASE)
    assert _conforms(shown, "chat.v2.service.user.user_channel") == []
    assert shown["url"] == (
        f"{BASE}/v2/Services/{SERVICE.sid}/Users/{'US' + 'a' * 32}/Channels/{member.channel_sid}"
    )
    assert shown["links"]["member"].startswith(f"{BASE}/v2/")

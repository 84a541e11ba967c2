"""The pure rules of push registrations (the SDK's ERS body) and media uploads."""

from __future__ import annotations

from typing import Any

import pytest

from chinwag import errors
from chinwag.domain.media import Upload, check_upload
from chinwag.domain.push_registrations import Register, parse_register

pytestmark = pytest.mark.unit

SDK_BODY: dict[str, Any] = {
    "endpoint_platform": "web",
    "channel_type": "apn",
    "version": "4",
    "message_types": ["twilio.channel.new_message", "twilio.channel.added_to_channel"],
    "data": {"registration_id": "f" * 64},
}


def test_the_sdk_body_parses() -> None:
    assert parse_register(SDK_BODY) == Register(
        "apn",
        "f" * 64,
        "web",
        ("twilio.channel.new_message", "twilio.channel.added_to_channel"),
    )


def test_a_missing_platform_is_web_and_no_types_is_none() -> None:
    body = {"channel_type": "fcm", "data": {"registration_id": "t"}}
    assert parse_register(body) == Register("fcm", "t", "web", ())


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"channel_type": None}, "channel_type"),
        ({"data": "t"}, "data.registration_id"),
        ({"data": {"registration_id": ""}}, "data.registration_id"),
        ({"endpoint_platform": "x" * 257}, "endpoint_platform"),
        ({"message_types": ["ok", 3]}, "message_types"),
        ({"message_types": ["t"] * 33}, "message_types"),
    ],
)
def test_a_bad_field_is_named(change: dict[str, Any], name: str) -> None:
    with pytest.raises(errors.InvalidParameterError) as refused:
        parse_register({**SDK_BODY, **change})
    assert refused.value.message.startswith(f"{name} must be ")


def test_a_body_that_is_no_object_is_malformed() -> None:
    with pytest.raises(errors.MalformedRequestError):
        parse_register(["fcm"])


def upload(**change: Any) -> Upload:
    fields = {"content_type": "image/png", "filename": None, "category": "media", "chunks": [b"x"]}
    return Upload(**{**fields, **change})


def test_an_upload_at_the_limit_passes_and_one_byte_more_is_413() -> None:
    assert check_upload(upload(chunks=[b"x" * 4, b"x" * 6]), 10).size == 10
    with pytest.raises(errors.PayloadTooLargeError) as refused:
        check_upload(upload(chunks=[b"x" * 10, b"x"]), 10)
    assert refused.value.status == 413 and "10 bytes" in refused.value.message


@pytest.mark.parametrize(
    "change",
    [
        {"chunks": []},
        {"content_type": ""},
        {"content_type": "text/plain\r\nX-Evil: 1"},
        {"filename": "a\nb"},
        {"category": "other"},
    ],
)
def test_a_bad_upload_is_400(change: dict[str, Any]) -> None:
    with pytest.raises(errors.ChinwagError) as refused:
        check_upload(upload(**change), 100)
    assert (refused.value.status, refused.value.code) == (400, 20001)

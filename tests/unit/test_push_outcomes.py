"""How provider answers are classified (pure: built responses, no network)."""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

import httpx
import pytest

from chinwag.push import apns, fcm
from chinwag.push.outcomes import MAX_RETRY_AFTER, Outcome, network_failure, retry_after

pytestmark = pytest.mark.unit

NOW = 1_800_000_000.0


def fcm_error(http_status: int, **error: Any) -> httpx.Response:
    return httpx.Response(http_status, json={"error": {"code": http_status, **error}})


def test_fcm_invalid_argument_blaming_the_token_means_gone() -> None:
    response = fcm_error(
        400,
        status="INVALID_ARGUMENT",
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": "message.token", "description": "bad token"}],
            }
        ],
    )
    assert fcm.classify(response, NOW).outcome is Outcome.GONE


def test_fcm_invalid_argument_about_the_payload_is_rejected() -> None:
    response = fcm_error(400, status="INVALID_ARGUMENT", message="Message is too big")
    result = fcm.classify(response, NOW)
    assert (result.outcome, result.reason) == (Outcome.REJECTED, "FCM 400 INVALID_ARGUMENT")


def test_fcm_third_party_auth_error_is_the_credentials() -> None:
    details = [
        {
            "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
            "errorCode": "THIRD_PARTY_AUTH_ERROR",
        }
    ]
    result = fcm.classify(fcm_error(401, status="UNAUTHENTICATED", details=details), NOW)
    assert (result.outcome, result.reason) == (Outcome.CREDENTIAL, "FCM 401 THIRD_PARTY_AUTH_ERROR")


def test_an_answer_without_json_is_still_classified() -> None:
    assert fcm.classify(httpx.Response(502, text="<html>"), NOW).outcome is Outcome.RETRY
    assert apns.classify(httpx.Response(502, text="<html>"), NOW).outcome is Outcome.RETRY
    assert apns.classify(httpx.Response(200), NOW).outcome is Outcome.DELIVERED


def test_apns_expired_device_token_means_gone() -> None:
    response = httpx.Response(410, json={"reason": "ExpiredToken", "timestamp": 1})
    assert apns.classify(response, NOW).outcome is Outcome.GONE


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (formatdate(NOW + 30, usegmt=True), 30.0),
        (formatdate(NOW - 30, usegmt=True), 0.0),
        ("999999", MAX_RETRY_AFTER),
        ("soon", None),
    ],
)
def test_retry_after_is_seconds_or_a_date(header: str, expected: float | None) -> None:
    response = httpx.Response(503, headers={"retry-after": header})
    assert retry_after(response, NOW) == expected


def test_network_failures_are_retried_with_their_cause() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as inner:
            raise httpx.ConnectError("All connection attempts failed") from inner
    except httpx.ConnectError as exc:
        result = network_failure(exc, "FCM", 10)
    assert result.outcome is Outcome.RETRY
    assert (
        result.reason
        == "FCM: connection error: ConnectionRefusedError: [Errno 111] Connection refused"
    )
    assert (
        network_failure(httpx.ReadTimeout("x"), "APNs", 2.5).reason == "APNs: timeout after 2.5 s"
    )

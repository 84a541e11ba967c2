"""Webhook delivery through real interfaces.

Requests go over loopback to ``WebhookReceiver``, a stdlib HTTP server, and every signature is
checked by twilio-python's own ``RequestValidator``, the code our users' receivers run.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections.abc import Mapping

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from chinwag.testing.webhook_receiver import WebhookReceiver, validate_signature
from chinwag.webhooks import sender as sender_module
from chinwag.webhooks.sender import MAX_BODY_BYTES, Attempt, Sender, _pinned_url
from chinwag.webhooks.signing import signature
from chinwag.webhooks.targets import ResolvedTarget, address_problem, resolve_target

pytestmark = pytest.mark.unit

AUTH_TOKEN = "webhook-test-auth-token"
# Generous for replies a loaded machine may be slow to give; short where a timeout is the point.
TIMEOUT = 5.0
SHORT_TIMEOUT = 0.5
PROFILE = settings(deadline=None, derandomize=True, database=None)

# Characters that form encoding, query strings and the signature's concatenation must survive.
ODD_PARAMS = {
    "Body": "a&b=c + 100% ü 😀\nline?#",
    "Attributes": '{"k": [1, 2]}',
    "From": "a&b=c + 100% ü 😀\nline?#",
    "Empty": "",
    "EventType": "onMessageSent",
}


def send(
    url: str,
    method: str | None = "POST",
    params: Mapping[str, str] | None = None,
    *,
    block_private: bool = False,
    timeout: float = TIMEOUT,
) -> Attempt:
    """One webhook call through a fresh Sender."""

    async def call() -> Attempt:
        async with Sender(timeout=timeout, block_private=block_private) as sender:
            return await sender.send(url, method, params or {}, AUTH_TOKEN)

    return asyncio.run(call())


# --- signing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("https://example.com/hook", {"B": "2", "A": "1", "a": "0"}),
        ("https://example.com/hook?x=1&y=a%20b", ODD_PARAMS),
        ("http://example.com:8080/hook?EventType=onMessageSent&Body=hi", None),
        ("https://example.com/", {}),
    ],
)
def test_signature_matches_request_validator(url: str, params: dict[str, str] | None) -> None:
    expected = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    assert signature(url, params, AUTH_TOKEN) == expected


@PROFILE
@given(
    params=st.dictionaries(
        st.text(st.characters(exclude_categories=["Cs"])),
        st.text(st.characters(exclude_categories=["Cs"])),
    ),
    token=st.text(st.characters(exclude_categories=["Cs"]), min_size=1),
)
def test_signature_matches_request_validator_for_any_params(
    params: dict[str, str], token: str
) -> None:
    url = "https://example.com/hook?q=1"
    expected = RequestValidator(token).compute_signature(url, params)
    assert signature(url, params, token) == expected


# --- what is sent ----------------------------------------------------------------------------


def test_post_sends_signed_form_when_values_have_odd_characters(
    receiver: WebhookReceiver,
) -> None:
    url = receiver.url("/hook?x=1&y=a%20b")

    attempt = send(url, "POST", ODD_PARAMS)

    assert attempt == Attempt(200, None, b"")
    [record] = receiver.wait_for(1)
    assert (record.method, record.url) == ("POST", url)
    assert record.params == ODD_PARAMS
    assert record.headers["content-type"] == "application/x-www-form-urlencoded; charset=utf-8"
    assert record.headers["user-agent"] == "TwilioProxy/1.1"
    assert record.headers["accept"] == "*/*"
    assert validate_signature(record, AUTH_TOKEN)
    assert not validate_signature(record, "another-token")


@pytest.mark.parametrize("path", ["/hook?x=1&y=a%20b", "/hook"])
def test_get_appends_params_to_query_and_signs_full_url(
    receiver: WebhookReceiver, path: str
) -> None:
    attempt = send(receiver.url(path), "get", ODD_PARAMS)

    assert attempt.delivered
    [record] = receiver.wait_for(1)
    assert record.method == "GET"
    assert record.url.startswith(receiver.url(path))
    expected = {"x": "1", "y": "a b"} if "?" in path else {}
    assert record.params == expected | ODD_PARAMS
    assert record.body == b""
    assert "content-type" not in record.headers
    assert validate_signature(record, AUTH_TOKEN)


@pytest.mark.parametrize("method", ["post", "PUT", "", None])
def test_any_method_but_get_is_a_form_post(receiver: WebhookReceiver, method: str | None) -> None:
    send(receiver.url(), method, {"A": "1"})

    [record] = receiver.wait_for(1)
    assert (record.method, record.params) == ("POST", {"A": "1"})
    assert validate_signature(record, AUTH_TOKEN)


def test_url_fragment_is_neither_sent_nor_signed(receiver: WebhookReceiver) -> None:
    send(receiver.url("/hook?x=1#part"), "POST", {"A": "1"})

    [record] = receiver.wait_for(1)
    assert record.url == receiver.url("/hook?x=1")
    assert validate_signature(record, AUTH_TOKEN)


# --- what comes back -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "ok", "delivered", "retryable"),
    [
        (200, True, True, False),
        (204, False, True, False),
        (404, False, False, False),
        (429, False, False, True),
        (500, False, False, True),
        (503, False, False, True),
    ],
)
def test_status_decides_ok_delivered_and_retryable(
    receiver: WebhookReceiver, status: int, ok: bool, delivered: bool, retryable: bool
) -> None:
    receiver.reply("/hook", status=status)

    attempt = send(receiver.url())

    assert attempt.status == status
    assert (attempt.ok, attempt.delivered, attempt.retryable) == (ok, delivered, retryable)
    assert attempt.error == (None if delivered else f"HTTP {status}")


def test_pre_event_reply_body_is_returned(receiver: WebhookReceiver) -> None:
    receiver.reply("/hook", json={"body": "edited", "attributes": "{}"})

    attempt = send(receiver.url())

    assert attempt.ok
    assert json.loads(attempt.body) == {"body": "edited", "attributes": "{}"}


def test_reply_body_is_cut_at_64_kib(receiver: WebhookReceiver) -> None:
    receiver.reply("/hook", json="x" * (2 * MAX_BODY_BYTES))

    attempt = send(receiver.url())

    assert attempt.ok
    assert len(attempt.body) == MAX_BODY_BYTES


def test_timeout_is_a_retryable_attempt_without_status(receiver: WebhookReceiver) -> None:
    receiver.reply("/hook", delay=10)

    started = time.monotonic()
    attempt = send(receiver.url(), timeout=SHORT_TIMEOUT)

    assert time.monotonic() - started < 5
    assert attempt == Attempt(None, f"timeout after {SHORT_TIMEOUT} s", b"", timed_out=True)
    assert attempt.retryable
    assert not attempt.delivered


def test_refused_connection_is_retryable_until_receiver_is_back(
    receiver: WebhookReceiver,
) -> None:
    url = receiver.url()
    receiver.stop()

    down = send(url)
    receiver.start()
    up = send(url)

    assert (down.status, down.retryable, down.blocked) == (None, True, False)
    assert down.error is not None
    assert "ConnectionRefusedError" in down.error
    assert up.ok
    assert len(receiver.wait_for(1)) == 1


# --- target policy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("localhost", "loopback"),
        ("[::1]", "loopback"),
        ("10.0.0.1", "private"),
        ("169.254.169.254", "link-local"),
    ],
)
def test_private_targets_are_blocked_when_blocking_private(
    receiver: WebhookReceiver, host: str, reason: str
) -> None:
    attempt = send(f"http://{host}:{receiver.port}/hook", block_private=True)

    assert (attempt.status, attempt.blocked, attempt.retryable) == (None, True, False)
    assert attempt.error is not None
    assert attempt.error.startswith("blocked: ")
    assert reason in attempt.error
    assert receiver.records == []


def test_loopback_names_are_allowed_when_not_blocking_private(
    receiver: WebhookReceiver,
) -> None:
    url = f"http://localhost:{receiver.port}/hook"

    attempt = send(url, "POST", {"A": "1"})

    assert attempt.ok
    [record] = receiver.wait_for(1)
    assert record.url == url
    assert validate_signature(record, AUTH_TOKEN)


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "file:///etc/passwd", "http:///hook"])
def test_urls_without_http_host_are_blocked_even_when_not_blocking_private(url: str) -> None:
    attempt = send(url)

    assert (attempt.status, attempt.blocked, attempt.retryable) == (None, True, False)


def test_pinned_request_connects_to_the_ip_but_keeps_host_and_signature(
    receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def pin_to_loopback(url: str, *, block_private: bool) -> ResolvedTarget:
        return ResolvedTarget(url, "127.0.0.1")

    # NOTE: .invalid never resolves, so a delivered request proves the pinned IP was used.
    monkeypatch.setattr(sender_module, "resolve_target", pin_to_loopback)
    url = f"http://hooks.invalid:{receiver.port}/hook?x=1"

    attempt = send(url, "POST", ODD_PARAMS, block_private=True)

    assert attempt.ok
    [record] = receiver.wait_for(1)
    assert record.headers["host"] == f"hooks.invalid:{receiver.port}"
    assert record.url == url
    assert validate_signature(record, AUTH_TOKEN)


@pytest.mark.parametrize(
    ("url", "pinned_ip"),
    [
        ("https://8.8.8.8/hook", "8.8.8.8"),
        ("https://[2001:4860:4860::8888]:8443/hook", "2001:4860:4860::8888"),
    ],
)
def test_global_addresses_are_pinned_when_blocking_private(url: str, pinned_ip: str) -> None:
    target = asyncio.run(resolve_target(url, block_private=True))

    assert target == ResolvedTarget(url, pinned_ip)


def test_nothing_is_resolved_when_not_blocking_private() -> None:
    url = "https://hooks.invalid/hook"

    assert asyncio.run(resolve_target(url, block_private=False)) == ResolvedTarget(url)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fd00::1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("240.0.0.1", "a reserved address"),
        ("198.18.0.1", "a private address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("2002:a00:1::", "a private address"),
        ("64:ff9b::a9fe:a9fe", "a link-local address"),
    ],
)
def test_address_problem_names_every_non_global_address(address: str, reason: str | None) -> None:
    assert address_problem(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    ("url", "ip", "pinned"),
    [
        (
            "https://hooks.example.com:8443/a/b?x=1&y=a%20b",
            "203.0.113.7",
            "https://203.0.113.7:8443/a/b?x=1&y=a%20b",
        ),
        ("https://hooks.example.com/a", "2001:db8::1", "https://[2001:db8::1]/a"),
        ("http://hooks.example.com:8080/", "2001:db8::1", "http://[2001:db8::1]:8080/"),
    ],
)
def test_pinned_url_swaps_only_the_host(url: str, ip: str, pinned: str) -> None:
    assert str(_pinned_url(httpx.URL(url), ip)) == pinned

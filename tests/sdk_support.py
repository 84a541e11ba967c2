"""Assertions shared by the SDK tests: a call fails with this HTTP status and Twilio code."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException


def expect_error(call: Callable[[], Any], status: int, code: int) -> TwilioRestException:
    """Run an SDK call that must fail with this HTTP status and Twilio code."""
    with pytest.raises(TwilioRestException) as info:
        call()
    assert (info.value.status, info.value.code) == (status, code), info.value.msg
    return info.value


def fails_with(
    status: int, code: int, fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> TwilioRestException:
    """``fn(*args, **kwargs)`` must fail with this HTTP status and Twilio code."""
    return expect_error(lambda: fn(*args, **kwargs), status, code)


def expect_list_error(status: int, code: int, fn: Callable[..., Any]) -> None:
    """List calls raise a plain TwilioException carrying the response (an SDK quirk)."""
    with pytest.raises(TwilioException) as info:
        fn()
    response = info.value.args[1]
    assert response.status_code == status
    assert json.loads(response.text)["code"] == code


def expect_http_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    """A raw response that must be this Twilio error."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert (body["code"], body["status"]) == (code, status), body
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    return body

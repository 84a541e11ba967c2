"""The server-side typing throttle: one fan-out per (service, channel, identity) per period."""

from __future__ import annotations

import time

import pytest

from chinwag.domain.rate_limits import RateLimits

pytestmark = pytest.mark.unit


def test_a_second_call_within_the_period_is_not_fanned_out() -> None:
    limits = RateLimits(typing=1)
    assert limits.typing_allowed("IS1", "CH1", "ann")
    assert not limits.typing_allowed("IS1", "CH1", "ann")
    assert limits.typing_allowed("IS1", "CH2", "ann")
    assert limits.typing_allowed("IS1", "CH1", "bob")
    time.sleep(1.05)
    assert limits.typing_allowed("IS1", "CH1", "ann")


def test_zero_turns_the_throttle_off() -> None:
    limits = RateLimits()
    assert all(limits.typing_allowed("IS1", "CH1", "ann") for _ in range(10))

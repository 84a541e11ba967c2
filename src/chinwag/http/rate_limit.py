"""Twilio's actions-per-second limits on mutations, off unless configured.

Twilio allows 30 mutations per second per channel (channel update; member, message and invite
writes) and 30 per service (channel create/delete; user and role writes), answering 429 with
50063 / 50074 beyond that; reads are never limited. Which route counts against which limit is
declared in the route table.

Counters are kept per process in a moving window (the ``limits`` library). With several
processes each enforces the limit on its own share of traffic, so the effective limit is
N times the setting; a shared Redis storage is the way to a cluster-wide limit. A channel is keyed
by its path segment, so its SID and unique name count separately.
"""

from __future__ import annotations

from typing import Literal

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from chinwag import errors
from chinwag.config import Settings

Scope = Literal["channel", "service"]


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        self._channel = (
            RateLimitItemPerSecond(settings.rate_limit_channel)
            if settings.rate_limit_channel
            else None
        )
        self._service = (
            RateLimitItemPerSecond(settings.rate_limit_service)
            if settings.rate_limit_service
            else None
        )
        self._limiter = (
            MovingWindowRateLimiter(MemoryStorage()) if self._channel or self._service else None
        )

    def check(self, scope: Scope | None, params: dict[str, str]) -> None:
        """Count one mutation; raise 429 if it is over its limit."""
        if self._limiter is None or scope is None:
            return
        limiter = self._limiter
        if scope == "channel" and self._channel is not None:
            if not limiter.hit(self._channel, "channel", params["service"], params["channel"]):
                raise errors.ChannelRateLimitError()
        elif (
            scope == "service"
            and self._service is not None
            and not limiter.hit(self._service, "service", params["service"])
        ):
            raise errors.ServiceRateLimitError()

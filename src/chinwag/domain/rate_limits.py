"""Twilio's actions-per-second limits on mutations, off unless configured.

Twilio allows 30 mutations per second per channel (channel update; member, message and invite
writes) and 30 per service (channel create/delete; user and role writes), answering 429 with
50063 / 50074 beyond that; reads are never limited. Each mutating domain operation counts itself
first thing, so every door (REST, the client gateway) shares one budget.

Counters are kept per process in a moving window (the ``limits`` library). With several
processes each enforces the limit on its own share of traffic, so the effective limit is
N times the setting; a shared Redis storage is the way to a cluster-wide limit. A channel is keyed
by the segment that names it (SID or unique name), so its SID and unique name count separately.

Typing is throttled apart (``typing_throttle``): one fan-out per (service, channel, identity)
per that many seconds and process; the SDK itself sends one per ``typing_timeout``.
"""

from __future__ import annotations

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from chinwag import errors


class RateLimits:
    """``channel`` and ``service``: mutations per second allowed, 0 for no limit."""

    def __init__(self, channel: int = 0, service: int = 0, typing: int = 0) -> None:
        self._channel = RateLimitItemPerSecond(channel) if channel else None
        self._service = RateLimitItemPerSecond(service) if service else None
        self._typing = RateLimitItemPerSecond(1, typing) if typing else None
        self._limiter = (
            MovingWindowRateLimiter(MemoryStorage())
            if self._channel or self._service or self._typing
            else None
        )

    def count_channel(self, service_sid: str, channel_key: str) -> None:
        """Count one mutation in a channel; raise 429 50063 if it is over the limit."""
        if self._limiter is None or self._channel is None:
            return
        if not self._limiter.hit(self._channel, "channel", service_sid, channel_key):
            raise errors.ChannelRateLimitError()

    def count_service(self, service_sid: str) -> None:
        """Count one service-wide mutation; raise 429 50074 if it is over the limit."""
        if self._limiter is None or self._service is None:
            return
        if not self._limiter.hit(self._service, "service", service_sid):
            raise errors.ServiceRateLimitError()

    def typing_allowed(self, service_sid: str, channel_sid: str, identity: str) -> bool:
        """Whether this typing call fans out (False: one did within ``typing`` seconds)."""
        if self._limiter is None or self._typing is None:
            return True
        return self._limiter.hit(self._typing, "typing", service_sid, channel_sid, identity)

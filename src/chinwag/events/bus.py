"""The transport port of the event bus: how encoded events reach the other processes.

The bus itself (:class:`~chinwag.domain.deps.EventBus`) is a port of the domain, declared with
its other ports; :class:`~chinwag.events.local.LocalBus` implements it and hands every event to
a :class:`Transport`, if it has one (the Redis fan-out plugs in there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Transport(Protocol):
    """Carries encoded events (``chinwag.events.codec``) between the buses of processes.

    A transport is a hint, never the source of truth: what a client may see is recorded in the
    database, so a lost message delays a client, never loses data.
    """

    def attach(self, receive: Callable[[bytes], None]) -> None:
        """Call ``receive`` on the event loop with each event other processes sent (never with
        this process's own)."""
        ...

    def send(self, data: bytes) -> None:
        """Hand ``data`` to the other processes without blocking or awaiting."""
        ...

    async def close(self) -> None: ...

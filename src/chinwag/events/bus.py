"""In-process publish/subscribe for domain events.

The bus is fed only from ``Txn.call_after`` hooks, so a subscriber never sees a change that was
rolled back. Subscribers are synchronous and must be quick (hand work to a queue); one that
raises is logged and the others still run, because a broken consumer must not fail a request
whose change is already committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from chinwag.domain.events import Event

log = logging.getLogger(__name__)

Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it again."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def publish(self, event: Event) -> None:
        for subscriber in tuple(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                log.exception("event subscriber %r failed on %s", subscriber, type(event).__name__)

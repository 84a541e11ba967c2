"""The event bus as a port: what publishers and subscribers may rely on, whatever carries it.

Two publish paths, never mixed:

- :meth:`EventBus.publish` takes a domain :class:`~chinwag.domain.events.Event`. Only
  ``Deps.emit`` calls it, from an after-commit hook, so no subscriber sees a change that was
  rolled back.
- :meth:`EventBus.publish_ephemeral` takes an
  :class:`~chinwag.domain.ephemeral.EphemeralEvent` (typing, presence): no transaction, no
  storage, no replay.

Publishing never waits for a subscriber. :class:`~chinwag.events.local.LocalBus` is the
implementation: it delivers in this process and hands every event to a :class:`Transport`,
if it has one, for the other processes (the Redis fan-out plugs in there).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar, overload

from chinwag.domain.ephemeral import EphemeralEvent
from chinwag.domain.events import Event
from chinwag.events.codec import BusEvent
from chinwag.events.topics import Topic

E = TypeVar("E", bound=BusEvent)

#: a plain function is called during ``publish`` (it must be quick: hand work to a queue); an
#: ``async def`` runs on its own task, fed by its own bounded queue
Subscriber = Callable[[E], Awaitable[None] | None]
Unsubscribe = Callable[[], None]


class EventBus(Protocol):
    @overload
    def subscribe(
        self, subscriber: Subscriber[Event], *, queue_size: int | None = None
    ) -> Unsubscribe: ...

    @overload
    def subscribe(
        self, subscriber: Subscriber[E], *, topic: Topic[E], queue_size: int | None = None
    ) -> Unsubscribe: ...

    def subscribe(
        self,
        subscriber: Subscriber[E],
        *,
        topic: Topic[E] | None = None,
        queue_size: int | None = None,
    ) -> Unsubscribe:
        """Deliver the events of ``topic`` (by default every domain event, no ephemeral one)
        to ``subscriber``; returns a function that stops it."""
        ...

    def publish(self, event: Event) -> None:
        """Deliver a committed change's event to every subscriber whose topic matches."""
        ...

    def publish_ephemeral(self, event: EphemeralEvent) -> None:
        """Deliver an event that belongs to no transaction, at once."""
        ...

    async def close(self) -> None:
        """Stop delivering; subscribers' queued events are dropped."""
        ...


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

"""``LocalBus``: the event bus of one process, with a seam for the bus across processes.

Delivery to a subscriber depends on what it is:

- a plain function is called during ``publish``, in subscription order. It must be quick (hand
  work to a queue, wake a task). One that raises is logged and the others still run: a broken
  consumer must not fail a request whose change is already committed.
- an ``async def`` gets a bounded queue of its own and a task that awaits it for one event at a
  time, in order. ``publish`` only appends to the queue, so a slow subscriber delays itself,
  never a request or another subscriber. One that raises is logged and gets the next event.

**Overflow policy.** When an async subscriber's queue is full, the new event is dropped for
that subscriber only: counted in :attr:`LocalBus.dropped` (``chinwag_bus_events_dropped``),
logged once per overflow (a warning when dropping starts, a note with the count once the
subscriber has caught up). Dropping the newest keeps what is queued in order; the events are
hints, the database stays the truth, so a consumer that may not miss one re-reads it.

With a :class:`~chinwag.events.bus.Transport`, every published event is also encoded
(``chinwag.events.codec``) and sent to the other processes, and what they send is decoded and
delivered here. Bytes that do not decode are logged and counted (:attr:`LocalBus.undecodable`),
never raised into the transport's receive loop.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from chinwag.domain.deps import Subscriber, Unsubscribe
from chinwag.events import codec
from chinwag.events.bus import Transport
from chinwag.model.ephemeral import EphemeralEvent
from chinwag.model.events import Event
from chinwag.model.topics import ALL_EVENTS, BusEvent, Topic

log = logging.getLogger(__name__)

#: events an async subscriber may have waiting before new ones are dropped for it
QUEUE_SIZE = 1000


class _Inline:
    """A plain function subscriber, called during ``publish``."""

    __slots__ = ("callback", "topic")

    def __init__(self, callback: Callable[[Any], object], topic: Topic[Any]) -> None:
        self.callback = callback
        self.topic = topic

    def offer(self, event: BusEvent) -> None:
        try:
            self.callback(event)
        except Exception:
            log.exception("event subscriber %r failed on %s", self.callback, type(event).__name__)

    def cancel(self) -> None:
        return None


class _Queued:
    """An async subscriber: its own bounded queue, drained by its own task while non-empty."""

    __slots__ = ("_bus", "_overflow", "_queue", "_size", "_task", "callback", "topic")

    def __init__(
        self,
        bus: LocalBus,
        callback: Callable[[Any], Awaitable[object]],
        topic: Topic[Any],
        size: int,
    ) -> None:
        self._bus = bus
        self.callback = callback
        self.topic = topic
        self._size = size
        self._queue: deque[BusEvent] = deque()
        self._task: asyncio.Task[None] | None = None
        self._overflow = 0  # events dropped since the queue was last drained

    def offer(self, event: BusEvent) -> None:
        if len(self._queue) >= self._size:
            self._bus.dropped += 1
            self._overflow += 1
            if self._overflow == 1:
                log.warning(
                    "event subscriber %r is %d events behind: dropping new events for it",
                    self.callback,
                    self._size,
                )
            return
        self._queue.append(event)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._queue:
                event = self._queue.popleft()
                try:
                    await self.callback(event)
                except Exception:
                    log.exception(
                        "event subscriber %r failed on %s", self.callback, type(event).__name__
                    )
        finally:
            self._task = None
        if self._overflow:
            log.info("event subscriber %r caught up; %d dropped", self.callback, self._overflow)
            self._overflow = 0

    def cancel(self) -> None:
        self._queue.clear()
        if self._task is not None:
            self._task.cancel()


class LocalBus:
    """The in-process :class:`~chinwag.events.bus.EventBus`, optionally joined to others by a
    :class:`~chinwag.events.bus.Transport`."""

    def __init__(self, transport: Transport | None = None) -> None:
        self._subscriptions: list[_Inline | _Queued] = []
        self._transport = transport
        #: events not delivered to an async subscriber because its queue was full
        self.dropped = 0
        #: messages from the transport that were not events this version understands
        self.undecodable = 0
        if transport is not None:
            transport.attach(self._receive)

    def subscribe(
        self,
        subscriber: Subscriber[Any],
        *,
        topic: Topic[Any] | None = None,
        queue_size: int | None = None,
    ) -> Unsubscribe:
        """See :meth:`chinwag.events.bus.EventBus.subscribe`; ``queue_size`` (async subscribers
        only) defaults to :data:`QUEUE_SIZE`."""
        topic = topic or ALL_EVENTS
        subscription: _Inline | _Queued
        if inspect.iscoroutinefunction(subscriber):
            subscription = _Queued(self, subscriber, topic, queue_size or QUEUE_SIZE)
        else:
            subscription = _Inline(subscriber, topic)
        self._subscriptions.append(subscription)

        def unsubscribe() -> None:
            self._subscriptions.remove(subscription)
            subscription.cancel()

        return unsubscribe

    def publish(self, event: Event) -> None:
        self._deliver(event)
        self._send(event)

    def publish_ephemeral(self, event: EphemeralEvent) -> None:
        self._deliver(event)
        self._send(event)

    async def close(self) -> None:
        for subscription in tuple(self._subscriptions):
            subscription.cancel()
        self._subscriptions.clear()
        if self._transport is not None:
            await self._transport.close()

    def _deliver(self, event: BusEvent) -> None:
        for subscription in tuple(self._subscriptions):
            if subscription.topic.matches(event):
                subscription.offer(event)

    def _send(self, event: BusEvent) -> None:
        if self._transport is not None:
            self._transport.send(codec.encode(event))

    def _receive(self, data: bytes) -> None:
        try:
            event = codec.decode(data)
        except codec.EventDecodeError as exc:
            self.undecodable += 1
            log.warning("ignored a message from the event transport: %s", exc)
            return
        self._deliver(event)

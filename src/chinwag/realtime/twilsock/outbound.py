"""One connection's way out: frames queued, then written in batches, bounded in time.

A session queues frames (replies, notifications, its final ``close``) with :meth:`Outbox.put`;
nothing is written then. The process's :class:`Flusher` runs on the next turn of the event
loop and hands each connection's waiting frames to its socket in **one write** (one system
call, however many frames waited). A notification fanned out to many connections is one
:class:`~chinwag.realtime.twilsock.codec.Notification`: without compression its bytes are the
same for every connection and are made once (``websocket.py``). For a client that reads
several events in one notification, a live event joins a waiting notification of its type
instead of queueing a frame of its own (:meth:`Outbox.join`, ``batching.py``).

::

    idle ──put──> waiting (the flusher will come) ──flush──> written ──> idle
                     │                                          │
                     └─ the socket is paused (the client is  <──┘ (and still paused)
                        behind) ──> blocked: wait for it to drain, at most write_timeout
                        ──> what waited meanwhile is written, or the connection dropped
    close_after(code): once the frames before it are written, the WebSocket close

**Pacing.** The flusher writes at most :data:`FLUSH_SLICE` connections per turn and leaves
the rest for a later one, so the requests that arrived meanwhile (REST, socket commands) are
read between two slices instead of waiting for a whole fan-out; and after a slice that took
long enough to matter it pauses as long, so that when both compete, request handling keeps
about half of the process (:data:`WRITE_SHARE`). The more a process has to deliver, the more
frames wait per connection, and the fewer writes carry them: under load a delivery costs
less, not more.

Nothing here waits on a client for long: a connection whose socket stays paused for
``write_timeout`` is dropped (the session's ``drop``), and so is one whose close does not go
out in that time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from chinwag.api.counters import GatewayCounters
from chinwag.realtime.twilsock.batching import Batch, Joinable
from chinwag.realtime.twilsock.codec import Notification

log = logging.getLogger(__name__)

#: connections written per turn of the event loop before the flusher yields to other work
FLUSH_SLICE = 64
#: the share of the process that writing frames may take while other work waits
WRITE_SHARE = 0.5
#: a slice quicker than this (seconds) is not followed by a pause: nothing was starved
PACE_FLOOR = 0.0005


class Transport(Protocol):
    """The WebSocket under a session (the socket, and the ASGI ``send`` for its close)."""

    def send_frames(self, frames: list[bytes | Notification], *, one: bool = True) -> None:
        """Write these Twilsock frames, in order, as one write (or one write each when not
        ``one``); ``OSError`` when gone."""
        ...

    def paused(self) -> bool:
        """The socket holds more than it should for a client that is not reading."""
        ...

    async def drained(self) -> None:
        """Until the socket is no longer paused."""
        ...

    async def close(self, code: int) -> None: ...

    def buffered(self) -> int:
        """Bytes handed to the socket that the client has not taken yet."""
        ...

    def abort(self, reason: str) -> None:
        """Drop the connection at once, unsent bytes included."""
        ...

    def authenticated(self) -> None:
        """The client completed init (the socket lifts its pre-init message limit)."""
        ...


@dataclass(frozen=True, slots=True)
class Unshared:
    """A notification waiting in one connection's queue under an id of its own (the shared id
    would not grow on this connection). Its frame is made when it is written: one event queued
    for a thousand connections that do not read is held once, not a thousand times."""

    notification: Notification
    frame_id: str


Item = bytes | Notification | Unshared | Batch


class Flusher:
    """Writes every connection that has frames waiting, in slices, paced: after a slice that
    took ``t`` seconds (more than :data:`PACE_FLOOR`), the next waits ``t`` too, so that when
    fan-out and requests compete each gets about half of the process (:data:`WRITE_SHARE`)."""

    def __init__(self) -> None:
        self._waiting: list[Outbox] = []
        self._scheduled = False
        #: ``time.perf_counter()`` before which no slice runs (the other work's share)
        self._rest_until = 0.0

    def add(self, outbox: Outbox) -> None:
        self._waiting.append(outbox)
        if not self._scheduled:
            self._scheduled = True
            self._schedule()

    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self._rest_until - time.perf_counter()
        if delay > 0:
            loop.call_later(delay, self._run)
        else:
            loop.call_soon(self._run)  # after the I/O of the next turn

    def _run(self) -> None:
        started = time.perf_counter()
        waiting = self._waiting
        if len(waiting) > FLUSH_SLICE:
            now, self._waiting = waiting[:FLUSH_SLICE], waiting[FLUSH_SLICE:]
        else:
            now, self._waiting = waiting, []
        for outbox in now:
            try:
                outbox.flush()
            except Exception:  # one connection's failure must not hold the others' frames
                log.exception("writing to a client connection failed")
                outbox.stop()
        spent = time.perf_counter() - started
        rest = spent * (1 - WRITE_SHARE) / WRITE_SHARE if spent > PACE_FLOOR else 0.0
        self._rest_until = started + spent + rest
        if self._waiting:
            self._schedule()
        else:
            self._scheduled = False


class Outbox:
    """The frames one connection has not handed to its socket yet."""

    __slots__ = (
        "_close_code",
        "_closing",
        "_counters",
        "_drop",
        "_flusher",
        "_items",
        "_joinable",
        "_task",
        "_waiting",
        "_write_timeout",
        "commands",
        "queued",
        "stopped",
        "transport",
    )

    def __init__(
        self,
        transport: Transport,
        flusher: Flusher,
        counters: GatewayCounters,
        write_timeout: float,
        drop: Callable[[str], None],
    ) -> None:
        self.transport = transport
        self._flusher = flusher
        self._counters = counters
        self._write_timeout = write_timeout
        self._drop = drop
        self._items: list[Item] = []
        #: bytes of the frames queued and not yet handed to the socket
        self.queued = 0
        #: registered with the flusher
        self._waiting = False
        self._close_code: int | None = None
        #: waiting for a paused socket to drain, or closing
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.stopped = False
        #: chat commands of this connection waiting for their reply: while there are any,
        #: frames leave one write each, as the SDK's ordering needs (``ordering.py``)
        self.commands = 0
        #: where live events may join a queued notification, once the client reads batches
        self._joinable: Joinable | None = None

    def batch_events(self) -> None:
        """The client reads several events in one notification (``batching.py``)."""
        self._joinable = Joinable()

    @property
    def joining(self) -> bool:
        """Whether a live event may join a queued notification now: the client reads batches
        and no chat command waits for its reply."""
        return self._joinable is not None and not self.commands

    def backlog(self) -> int:
        """Bytes this connection has not taken: queued here and buffered in the socket."""
        return self.queued + self.transport.buffered()

    def put(self, item: Item, size: int) -> None:
        self.queued += size
        if self._joinable is not None:
            self._joinable.queued(_notification(item), len(self._items))
        self._items.append(item)
        self._later()

    def join(self, notification: Notification, size: int) -> bool:
        """Add live event ``notification`` to a queued notification of its type, if the order
        of its object's events allows (``batching.Joinable``); ``False`` when it must be queued
        on its own. Only while :attr:`joining`."""
        assert self._joinable is not None and notification.batchable is not None
        at = self._joinable.join_at(notification)
        if at is None:
            return False
        item = self._items[at]
        if not isinstance(item, Batch):
            first = _notification(item)
            assert first is not None  # only live events' notifications are joinable
            item = self._items[at] = Batch(first, _frame_id(item))
        item.events.append(notification.batchable[1])
        self.queued += size
        self._counters.events_joined += 1
        return True

    def close_after(self, ws_code: int) -> None:
        """Close the WebSocket with ``ws_code`` once every frame queued before is written."""
        self._close_code = ws_code
        self._later()

    def _later(self) -> None:
        if not self._waiting and self._task is None and not self.stopped:
            self._waiting = True
            self._flusher.add(self)

    def flush(self) -> None:
        """Write what waits (the flusher's call), unless the socket is paused."""
        self._waiting = False
        if self.stopped or self._task is not None:
            return
        if self.transport.paused():
            self._task = asyncio.get_running_loop().create_task(self._unblock())
        else:
            self._write()

    def _write(self) -> None:
        items, self._items = self._items, []
        if self._joinable is not None:
            self._joinable.clear()
        if items:
            frames = [_made(item) for item in items]
            try:
                self.transport.send_frames(frames, one=not self.commands)
            except OSError:  # the socket is gone; the gateway tells the session
                self.stop()
                return
            self._counters.frames_out += len(frames)
        self.queued = 0
        if self.transport.paused():  # what was just written must go out in time, too
            self._task = asyncio.get_running_loop().create_task(self._unblock())
        elif self._close_code is not None:
            self._closing = True
            self._task = asyncio.get_running_loop().create_task(self._close(self._close_code))

    async def _unblock(self) -> None:
        try:
            async with asyncio.timeout(self._write_timeout):
                await self.transport.drained()
        except TimeoutError:
            self._task = None
            self._drop("write_timeout")
            self.stop()
            return
        self._task = None
        if not self.stopped and (self._items or self._close_code is not None):
            self._write()

    async def _close(self, code: int) -> None:
        try:
            async with asyncio.timeout(self._write_timeout):
                await self.transport.close(code)
        except TimeoutError:
            self._drop("write_timeout")
        except OSError:
            pass
        self.stopped = True

    async def flushed(self) -> None:
        """Until every queued frame (the close included) has been written, or the connection
        is gone."""
        while not self.stopped:
            task = self._task
            if task is not None:
                await asyncio.wait([task])
                if self._closing:
                    return
            elif self._items or self._close_code is not None:
                await asyncio.sleep(0)
            else:
                return

    def stop(self) -> None:
        """The connection is gone: write nothing more, let go of the frames and of the
        session (no cycle is left for the garbage collector)."""
        self.stopped = True
        self._drop = _ignore
        self._items = []
        self._joinable = None
        self.queued = 0
        if self._task is not None and not self._closing:
            self._task.cancel()
        self._task = None


def _made(item: Item) -> bytes | Notification:
    if isinstance(item, Unshared):
        return item.notification.frame(item.frame_id)
    if isinstance(item, Batch):
        return item.frame()
    return item


def _notification(item: Item) -> Notification | None:
    """The notification a queued item carries, if it is one that live events may join."""
    if isinstance(item, Notification):
        return item
    if isinstance(item, Unshared):
        return item.notification
    return None


def _frame_id(item: Item) -> str:
    """The id a queued notification goes out with (a batch grown from it keeps it)."""
    if isinstance(item, Unshared):
        return item.frame_id
    assert isinstance(item, Notification) and item.frame_id is not None
    return item.frame_id


def _ignore(reason: str) -> None:
    """What a stopped outbox calls instead of its session's ``drop``."""

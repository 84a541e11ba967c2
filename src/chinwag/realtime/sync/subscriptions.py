"""Subscriptions: replay on establish, then live events, per connection through its own queue.

::

    establish(L) ──> join the object's feed (live events held back)
                 ──> replay every event after L from the database, in id order
                 ──> until caught up with the feed, then release held events newer than
                     the replay ──> subscription_established(last_event_id)
    feed woken   ──> one read per object per process (events after the feed's position)
                 ──> offered to each subscription, which passes only ids it has not sent

A feed is woken by the projection after a local commit, by a hint from another process
(``realtime/fanout.py``), or by its poll timer; whatever wakes it, it reads the database, so
a lost wake-up delays an event until the next one but never loses it. Notifications go to each
connection's own bounded queue: a client that does not keep up is cut off (the gateway closes
it with 308) and replays from its last event id when it reconnects, instead of slowing anyone
else.

**Read your own writes.** A chat command commits in the task that answers it, and the commit
wakes the feeds of the objects it changed before the command returns. Each feed counts its
wake-ups and the reads that followed them (:class:`Progress`), so
:meth:`SyncConnection.settle` can wait until every feed this connection subscribes to has
read past the last wake-up, and every establishing subscription has finished its replay:
then the command's own events are in the connection's queue, ahead of the command's reply.
An object the client has opened but not subscribed to yet (the SDKs subscribe in batches,
about 100 ms after opening, and accept events for an opened object before that: Sync
``subscriptions.js``, ``applyEventToSubscribedEntity``) gets its events after the id its
descriptor reported read and queued directly, so a command right after ``Client.create``
is seen too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from chinwag import errors
from chinwag.clock import Clock
from chinwag.realtime.sync import access, views
from chinwag.realtime.sync.legacy_sessions import SessionLists
from chinwag.realtime.sync.objects import SyncObject
from chinwag.realtime.sync.projection import ALL, REVOKE
from chinwag.realtime.sync.shapes import Data
from chinwag.realtime.twilsock.batching import live_event
from chinwag.realtime.twilsock.codec import Notification
from chinwag.realtime.watermark import Watermark
from chinwag.storage.database import Database

log = logging.getLogger(__name__)

#: the SDK's message type for strictly ordered Sync events
SYNC_EVENT = "twilio.sync.event"
#: objects one connection may have opened and not subscribed to yet (the SDKs subscribe to
#: what they open; past this, the oldest are forgotten and only miss read-your-own-writes)
MAX_OPENED = 256
#: an opened object whose subscription has not come within this long never will (the SDKs
#: subscribe about 100 ms after opening): it is forgotten rather than read for every command
OPEN_SECONDS = 5.0


class Progress:
    """A feed's wake-ups and the reads that caught up with them.

    ``woken`` counts wake-ups; ``done`` is the count a completed read (no more batches left)
    started from. A read that starts after wake-up ``n`` sees every commit made before it,
    so once ``done`` reaches ``n`` those commits' events have been offered to every subscriber.
    """

    __slots__ = ("done", "woken")

    def __init__(self) -> None:
        self.woken = 0
        self.done = Watermark()

    def behind(self) -> bool:
        return self.done.value < self.woken

    def wait(self) -> asyncio.Future[None]:
        """Resolved once a read started after the latest wake-up has completed."""
        return self.done.wait_for(self.woken)

    def reached(self, count: int) -> None:
        self.done.raise_to(count)

    def release(self) -> None:
        """The feed stopped: nothing more will come, so nobody waits for it."""
        self.done.raise_to(self.woken)


@dataclass(frozen=True, slots=True)
class SyncSettings:
    #: scheme://host of Sync URLs in live events (never resolved: only labels; replies to a
    #: request use the host the request named, as the SDK's default does)
    base_url: str = "https://cds.us1.twilio.com"
    #: seconds between reads of every feed even without a wake-up (None: only when woken)
    poll_interval: float | None = None


class SyncConnection:
    """One client connection's subscriptions, and where its notifications go.

    ``deliver`` hands a notification to the connection's own bounded outbound queue (the
    gateway session's); a connection that overflows it is closed, which detaches it here.
    """

    def __init__(
        self,
        hub: SyncHub,
        identity: str,
        service_sid: str,
        deliver: Callable[[Sequence[Notification]], None],
    ) -> None:
        self.hub = hub
        self.identity = identity
        self.service_sid = service_sid
        self._deliver = deliver
        self.subscriptions: dict[str, Subscription] = {}
        #: objects opened (S1-S3) and not subscribed to yet: the last event id queued for each,
        #: and when it was opened (``time.monotonic``)
        self.opened: dict[str, tuple[SyncObject, int, float]] = {}
        #: establishes spawned for this connection and not finished (bounded per connection)
        self.establishing = 0
        #: set once detached: work still in flight for it (an establish) stops
        self.closed = False

    def push(self, payload: Data) -> None:
        """An event for this connection only (a replay, a subscription's outcome)."""
        self._deliver((Notification(SYNC_EVENT, orjson.dumps(payload)),))

    def push_encoded(self, notifications: Sequence[Notification]) -> None:
        """Live events, in order, each encoded once for every connection."""
        self._deliver(notifications)

    def note_open(self, obj: SyncObject, last_event_id: int) -> None:
        """The client opened ``obj`` at ``last_event_id`` (it will subscribe shortly)."""
        if obj.sid in self.subscriptions:
            return
        self.opened.pop(obj.sid, None)
        if len(self.opened) >= MAX_OPENED:
            del self.opened[next(iter(self.opened))]
        self.opened[obj.sid] = (obj, last_event_id, time.monotonic())

    async def settle(self, timeout: float) -> None:
        """Until every change committed before this call, on an object this connection
        subscribes to, is in its queue: each subscribed feed has read past its latest
        wake-up, and each establishing subscription has replayed. Bounded by ``timeout``
        seconds, so a database outage delays a reply but never holds it."""
        waits: list[Awaitable[object]] = []
        for sub in self.subscriptions.values():
            if not sub.ready:
                waits.append(sub.until_ready())
                continue
            feed = self.hub.feed(sub.obj.sid)
            if feed is not None and feed.progress.behind():
                waits.append(feed.progress.wait())
        if self.opened:
            waits.append(self._catch_up_opened())
        if waits:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*waits), timeout)

    async def _catch_up_opened(self) -> None:
        stale = time.monotonic() - OPEN_SECONDS
        for sid, (obj, last, at) in tuple(self.opened.items()):
            if at < stale:
                self.opened.pop(sid, None)
            if at < stale or sid in self.subscriptions or self.closed:
                continue
            replay = await self.hub.read(obj, last)
            if self.opened.get(sid, (obj, -1, at))[1] != last:
                continue  # subscribed, forgotten or caught up meanwhile
            for event in replay.events:
                self.push(event)
            if replay.removed:
                del self.opened[sid]
            else:
                self.opened[sid] = (obj, replay.position, at)


#: a live event as feeds hand it out: its id (None for an object's removal) and its
#: notification, encoded once however many connections receive it
Delivery = tuple[int | None, Notification]


@dataclass(eq=False)
class Subscription:
    connection: SyncConnection
    obj: SyncObject
    delivered: int = 0
    ready: bool = False
    held: list[Delivery] = field(default_factory=list)
    #: set when the replay is done or the subscription ends (made when someone waits)
    _settled: asyncio.Event | None = None

    def until_ready(self) -> Awaitable[object]:
        if self._settled is None:
            self._settled = asyncio.Event()
        return self._settled.wait()

    def unblock(self) -> None:
        """Ready, or ended: whoever waits for the replay stops waiting."""
        if self._settled is not None:
            self._settled.set()

    def offer(self, deliveries: list[Delivery]) -> None:
        if not self.ready:
            self.held.extend(deliveries)
            return
        fresh = []
        for event_id, notification in deliveries:
            if event_id is None or event_id > self.delivered:
                fresh.append(notification)
                if event_id is not None:
                    self.delivered = event_id
        if fresh:
            self.connection.push_encoded(fresh)


class Feed:
    """One object's live events in this process, read once and offered to every subscriber."""

    def __init__(self, hub: SyncHub, obj: SyncObject, position: int) -> None:
        self.hub = hub
        self.obj = obj
        self.position = position
        self.subscribers: set[Subscription] = set()
        self.progress = Progress()
        self._woken = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run())

    def wake(self) -> None:
        self.progress.woken += 1
        self._woken.set()

    def stop(self) -> None:
        self._task.cancel()
        self.progress.release()

    async def _run(self) -> None:
        poll = self.hub.settings.poll_interval
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), poll)
            self._woken.clear()
            started = self.progress.woken
            try:
                replay = await self.hub.read(self.obj, self.position)
            except Exception:
                log.exception(
                    "sync feed %s failed to read; retrying on the next wake-up", self.obj.sid
                )
                await asyncio.sleep(0.5)
                continue
            self.position = replay.position
            sid = self.obj.sid
            deliveries = [
                (e["event"].get("id"), live_event(SYNC_EVENT, e, sid)) for e in replay.events
            ]
            for sub in tuple(self.subscribers):
                sub.offer(deliveries)
            if replay.removed:
                self.hub.drop_feed(self)
                return
            if replay.more:
                self._woken.set()
            else:
                self.progress.reached(started)


class SyncHub:
    """This process's feeds and connections. ``wake`` is the projection's after-commit hook."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: SyncSettings,
        publish: Callable[[tuple[str, ...]], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self._publish = publish
        #: the command lists of twilio-chat 3 and 4 (in memory; no feed, no database)
        self.sessions = SessionLists(clock)
        self._feeds: dict[str, Feed] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._by_owner: dict[str, set[Feed]] = {}

    def set_publisher(self, publish: Callable[[tuple[str, ...]], None] | None) -> None:
        """Where local commits are announced to other processes (the fan-out), if anywhere."""
        self._publish = publish

    def wake(self, owners: tuple[str, ...]) -> None:
        """After a local commit: read the owners' objects now, and tell other processes."""
        self.wake_local(owners)
        if self._publish is not None:
            self._publish(owners)

    def wake_local(self, owners: tuple[str, ...]) -> None:
        for owner in owners:
            if owner.startswith(REVOKE) and owner[1:] in self._by_owner:
                self.spawn(self._recheck(owner[1:]))
        if ALL in owners:
            feeds: Any = tuple(self._feeds.values())
        else:
            feeds = [f for owner in owners for f in self._by_owner.get(owner, ())]
        for feed in feeds:
            feed.wake()

    def wake_all(self) -> None:
        self.wake_local((ALL,))

    def feed(self, object_sid: str) -> Feed | None:
        """This process's feed of an object, if anyone here subscribes to it."""
        return self._feeds.get(object_sid)

    async def _recheck(self, channel_sid: str) -> None:
        """Someone lost access to the channel: cancel live subscriptions no longer allowed."""
        audience = await self.db.run_read("sync_recheck", access.channel_audience_txn, channel_sid)
        for feed in tuple(self._by_owner.get(channel_sid, ())):
            for sub in tuple(feed.subscribers):
                if audience is None or not access.admits(
                    audience, feed.obj.type, sub.connection.identity
                ):
                    self.cancel(sub.connection, feed.obj.sid)

    async def read(self, obj: SyncObject, after: int) -> views.Replay:
        now = self.clock.now_ms()
        base = self.settings.base_url
        return await self.db.run_read("sync_events", views.events_after_txn, base, obj, after, now)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` (an establish) in the background; a failure is logged, not lost."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sync subscription work failed", exc_info=task.exception())

    def connect(
        self, identity: str, service_sid: str, deliver: Callable[[Sequence[Notification]], None]
    ) -> SyncConnection:
        return SyncConnection(self, identity, service_sid, deliver)

    def detach(self, connection: SyncConnection) -> None:
        """Forget a connection's subscriptions (it closed, or overflowed)."""
        connection.closed = True
        self.sessions.detach(connection)
        for sub in tuple(connection.subscriptions.values()):
            self._leave(sub)
        connection.subscriptions.clear()

    def cancel(self, connection: SyncConnection, object_sid: str) -> None:
        connection.opened.pop(object_sid, None)
        sub = connection.subscriptions.pop(object_sid, None)
        if sub is not None:
            self._leave(sub)

    async def establish(
        self, connection: SyncConnection, obj: SyncObject, last_event_id: int | None, extra: Data
    ) -> None:
        """Replay everything after ``last_event_id`` to ``connection``, then go live.

        ``extra`` (the correlation id) is added to every notification of the replay and to the
        closing ``subscription_established`` or ``subscription_failed``.
        """
        self.cancel(connection, obj.sid)
        sub = Subscription(connection, obj)
        feed = self._feeds.get(obj.sid)
        if feed is None:
            start = await self.db.run_read("sync_position", views.position_txn, obj)
            if start is None:
                connection.push(failed(obj, not_found(obj.kind), extra))
                return
            feed = self._feeds.get(obj.sid) or self._new_feed(obj, start)
        if connection.closed:
            return
        feed.subscribers.add(sub)
        connection.subscriptions[obj.sid] = sub
        connection.opened.pop(obj.sid, None)
        position = feed.position if last_event_id is None else last_event_id
        while True:
            replay = await self.read(obj, position)
            if replay.removed:
                self.cancel(connection, obj.sid)
                connection.push(failed(obj, not_found(obj.kind), extra))
                return
            for event in replay.events:
                connection.push({**event, **extra})
            position = replay.position
            if not replay.more and position >= feed.position:
                break
        sub.delivered, sub.ready = position, True
        held, sub.held = sub.held, []
        sub.offer(held)
        sub.unblock()
        established = {
            "object_sid": obj.sid,
            "object_type": obj.kind,
            "replay_status": "completed",
            "last_event_id": sub.delivered,
        }
        connection.push({"event_type": "subscription_established", "event": established, **extra})

    def _new_feed(self, obj: SyncObject, position: int) -> Feed:
        feed = Feed(self, obj, position)
        self._feeds[obj.sid] = feed
        self._by_owner.setdefault(obj.owner_sid, set()).add(feed)
        return feed

    def drop_feed(self, feed: Feed) -> None:
        feed.progress.release()
        self._feeds.pop(feed.obj.sid, None)
        owned = self._by_owner.get(feed.obj.owner_sid)
        if owned is not None:
            owned.discard(feed)
            if not owned:
                del self._by_owner[feed.obj.owner_sid]
        for sub in tuple(feed.subscribers):
            sub.connection.subscriptions.pop(feed.obj.sid, None)
            sub.unblock()
        feed.subscribers.clear()

    def _leave(self, sub: Subscription) -> None:
        sub.unblock()
        feed = self._feeds.get(sub.obj.sid)
        if feed is None:
            return
        feed.subscribers.discard(sub)
        if not feed.subscribers:
            feed.stop()
            self.drop_feed(feed)

    async def close(self) -> None:
        for task in tuple(self._tasks):
            task.cancel()
        for feed in tuple(self._feeds.values()):
            feed.stop()
            self.drop_feed(feed)


def failed(obj: SyncObject, error: errors.ChinwagError, extra: Data) -> Data:
    """``subscription_failed``: the SDK marks the object removed on a 404 (protocol 2.4)."""
    detail = {"status": error.status, "code": error.code, "message": error.message}
    body = {"object_sid": obj.sid, "object_type": obj.kind, "error": detail}
    return {"event_type": "subscription_failed", "event": body, **extra}


def not_found(kind: object) -> errors.ChinwagError:
    """The Sync "not found" error for an object of ``kind`` (a map's for anything unknown)."""
    if kind == "document":
        return errors.SyncDocumentNotFoundError()
    if kind == "list":
        return errors.SyncListNotFoundError()
    return errors.SyncMapNotFoundError()

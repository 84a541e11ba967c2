"""The command lists of twilio-chat 3 and 4: one Sync list per client, held in memory.

twilio-chat 3.x and 4.x send no REST-like commands (docs/client-versions.md). At start the
client creates a Sync list (``POST /v3/Lists`` with ``purpose: "com.twilio.rtd.ipmsg"``) and
waits for the list's *context* to name what twilio-chat 6 reads from
``/Client/v1/Configuration``. Each command is then an item it pushes
(``{"request": {"action": …}, "commandId": uuid}``), and the server answers by updating that
item with a ``response``, which the client receives as ``list_item_updated`` (chat
``session.js``). This module is those lists; what the commands do is ``legacy_chat.py``'s.

A list is only a client's mailbox: it holds no chat state, so it lives in this process's
memory, owned by the identity that created it, and every part of it is bounded:

- the items kept per list (:data:`MAX_ITEMS`, and :data:`MAX_BYTES` of item data: the oldest
  go first; a command's answer is delivered when it is made, and a kept item only serves a
  client that reconnects while its command runs);
- the lists per identity (:data:`MAX_PER_IDENTITY`) and per process (:data:`MAX_LISTS`): the
  least recently used go first, and lists nobody has used for :data:`IDLE_MS` are dropped.

A client whose list is gone (evicted, or it reconnected to another process) is told 404 with
code 54150 when it next pushes a command; the SDK then creates a new list and sends the
command again (``session.js``, ``processCommand``), so nothing but a wait is lost.

Events of a list go to every connection that subscribed to it, and to the connection that
pushed a command before it subscribed: the SDK accepts events for a list it has opened
(twilio-sync ``subscriptions.js``, ``applyEventToSubscribedEntity``).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol

import orjson

from chinwag import errors, sids
from chinwag.clock import Clock
from chinwag.realtime.sync import shapes
from chinwag.realtime.sync.objects import Kind
from chinwag.realtime.sync.shapes import Data


class SyncConnection(Protocol):
    """What a command list needs of a client's Sync connection
    (``subscriptions.SyncConnection``, which holds the lists: declared here, not imported)."""

    @property
    def service_sid(self) -> str: ...
    @property
    def identity(self) -> str: ...
    def push(self, event: Data) -> None: ...


#: the ``purpose`` of a twilio-chat 3/4 command list (``session.js``, ``SESSION_PURPOSE``)
PURPOSE = "com.twilio.rtd.ipmsg"
#: items kept per list (a client has a few commands in flight at most)
MAX_ITEMS = 64
#: bytes of item data kept per list (the newest item is always kept)
MAX_BYTES = 256 * 1024
#: lists per identity of a service (one per running client; clients make a new one each start)
MAX_PER_IDENTITY = 16
#: lists per process
MAX_LISTS = 50_000
#: a list nobody subscribes to and nobody used for this long is dropped
IDLE_MS = 10 * 60 * 1000

Owner = tuple[str, str]  # service SID, identity


@dataclass(eq=False)
class SessionItem:
    index: int
    data: Data
    #: the event that added it, and the event of its latest change
    added: int
    event_id: int
    date: int
    size: int


@dataclass(eq=False)
class SessionList:
    """One client's command list: its context and its latest items."""

    sid: str
    owner: Owner
    context: Data
    date_created: int
    last_used: int
    event_id: int = 0
    #: the event that set the context (the list's first: ``legacy_chat`` fills it at once)
    context_event: int = 0
    next_index: int = 0
    size: int = 0
    items: OrderedDict[int, SessionItem] = field(default_factory=OrderedDict)
    listeners: set[SyncConnection] = field(default_factory=set)

    @property
    def kind(self) -> Kind:
        return "list"

    @property
    def unique_name(self) -> str | None:
        return None

    def set_context(self, context: Data, now: int) -> Data:
        self.event_id += 1
        self.context, self.context_event, self.last_used = context, self.event_id, now
        return shapes.list_context_updated(self, self.event_id, now, context)

    def add(self, base: str, data: Data, now: int) -> tuple[SessionItem, Data]:
        """A pushed item, and its ``list_item_added`` event."""
        self.event_id += 1
        size = len(orjson.dumps(data))
        item = SessionItem(self.next_index, data, self.event_id, self.event_id, now, size)
        self.next_index += 1
        self.items[item.index] = item
        self.size += size
        self._trim()
        self.last_used = now
        return item, self._event(base, item, "added")

    def update(self, base: str, index: int, data: Data, now: int) -> Data | None:
        """Replace an item's data; its ``list_item_updated`` event (None if it was dropped)."""
        item = self.items.get(index)
        if item is None:
            return None
        self.event_id += 1
        size = len(orjson.dumps(data))
        self.size += size - item.size
        item.data, item.event_id, item.date, item.size = data, self.event_id, now, size
        self.items.move_to_end(index)
        self._trim()
        self.last_used = now
        return self._event(base, item, "updated")

    def events_after(self, base: str, after: int) -> list[Data]:
        """What a client that saw events up to ``after`` missed, in event id order."""
        found: list[tuple[int, Data]] = []
        if self.context_event > after:
            event = shapes.list_context_updated(
                self, self.context_event, self.date_created, self.context
            )
            found.append((self.context_event, event))
        for item in self.items.values():
            if item.event_id > after:
                change = "added" if item.added > after else "updated"
                found.append((item.event_id, self._event(base, item, change)))
        found.sort(key=lambda pair: pair[0])
        return [event for _, event in found]

    def _event(self, base: str, item: SessionItem, change: str) -> Data:
        return shapes.item_event(
            base, self, change, item.index, item.event_id, item.date, item.data
        )

    def _trim(self) -> None:
        while len(self.items) > 1 and (len(self.items) > MAX_ITEMS or self.size > MAX_BYTES):
            _, dropped = self.items.popitem(last=False)
            self.size -= dropped.size


class SessionLists:
    """This process's command lists, by SID and by owner, and who listens to each."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        #: every list, least recently used first
        self._lists: OrderedDict[str, SessionList] = OrderedDict()
        self._by_owner: dict[Owner, OrderedDict[str, SessionList]] = {}
        self._by_connection: dict[SyncConnection, set[SessionList]] = {}

    @staticmethod
    def owns(sid: object) -> bool:
        """Whether ``sid`` names a command list (rather than a chat object)."""
        return isinstance(sid, str) and sids.looks_like(sids.SYNC_SESSION_LIST, sid)

    def create(self, service_sid: str, identity: str, context: Data) -> SessionList:
        """A new list of this identity, its context set (event 1)."""
        now = self.clock.now_ms()
        self._sweep(now)
        owner = (service_sid, identity)
        mine = self._by_owner.setdefault(owner, OrderedDict())
        while len(mine) >= MAX_PER_IDENTITY:
            self._drop(next(iter(mine.values())))
        while len(self._lists) >= MAX_LISTS:
            self._drop(next(iter(self._lists.values())))
        sid = sids.SYNC_SESSION_LIST + os.urandom(16).hex()
        session = SessionList(sid, owner, {}, now, now)
        session.set_context(context, now)
        self._lists[sid] = mine[sid] = session
        return session

    def find(self, sid: str, service_sid: str, identity: str) -> SessionList:
        """The list ``sid`` of this identity: 404 (54150) if there is none here, 403 (54007)
        if it is another identity's (the SDK recreates its list on either code)."""
        session = self._lists.get(sid)
        if session is None:
            raise errors.SyncListNotFoundError()
        if session.owner != (service_sid, identity):
            raise errors.SyncAccessForbiddenError()
        self._touch(session)
        return session

    def listen(self, connection: SyncConnection, session: SessionList) -> None:
        session.listeners.add(connection)
        self._by_connection.setdefault(connection, set()).add(session)

    def publish(self, session: SessionList, event: Data) -> None:
        for connection in tuple(session.listeners):
            connection.push(event)

    def establish(
        self, connection: SyncConnection, sid: str, last: int | None, extra: Data, base: str
    ) -> None:
        """A subscription: the events after ``last``, then ``subscription_established``
        (``base``: the server's base URL, which the events' URLs start with)."""
        try:
            session = self.find(sid, connection.service_sid, connection.identity)
        except errors.ChinwagError as error:
            detail = {"status": error.status, "code": error.code, "message": error.message}
            event = {"object_sid": sid, "object_type": "list", "error": detail}
            connection.push({"event_type": "subscription_failed", "event": event, **extra})
            return
        for event in session.events_after(base, last or 0):
            connection.push({**event, **extra})
        self.listen(connection, session)
        established = {
            "object_sid": sid,
            "object_type": "list",
            "replay_status": "completed",
            "last_event_id": session.event_id,
        }
        connection.push({"event_type": "subscription_established", "event": established, **extra})

    def cancel(self, connection: SyncConnection, sid: str) -> None:
        session = self._lists.get(sid)
        if session is not None:
            session.listeners.discard(connection)
            self._by_connection.get(connection, set()).discard(session)

    def detach(self, connection: SyncConnection) -> None:
        for session in self._by_connection.pop(connection, ()):
            session.listeners.discard(connection)

    def _touch(self, session: SessionList) -> None:
        session.last_used = self.clock.now_ms()
        self._lists.move_to_end(session.sid)
        self._by_owner[session.owner].move_to_end(session.sid)

    def _sweep(self, now: int) -> None:
        """Drop the idle lists at the old end (none is listened to, none used lately)."""
        for session in tuple(self._lists.values()):
            if now - session.last_used < IDLE_MS:
                break
            if not session.listeners:
                self._drop(session)

    def _drop(self, session: SessionList) -> None:
        self._lists.pop(session.sid, None)
        mine = self._by_owner.get(session.owner)
        if mine is not None:
            mine.pop(session.sid, None)
            if not mine:
                del self._by_owner[session.owner]
        for connection in session.listeners:
            self._by_connection.get(connection, set()).discard(session)
        session.listeners.clear()

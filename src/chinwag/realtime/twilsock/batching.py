"""Several live Sync events to one connection in one notification, for the clients that read it.

The Sync client of twilio-chat 6 accepts a notification whose payload holds an array of events
of one type, ``{"event_type": T, "events": [e1, e2, …]}``, and applies them in order exactly
as it would apply the same events sent one notification each (twilio-sync ``subscriptions.js``,
``acceptMessage``: ``message.events``, else ``[message.event]``). Older Sync clients (twilio-chat
3 to 5) read only ``event``, so a connection batches only when its init says it is twilio-chat
6 or newer (:func:`accepts_batches`); any other client gets one event per notification.

Under fan-out this is where the cost goes: the SDK acknowledges every notification in a TCP
segment of its own, and the server reads each one, so ``k`` events in one notification cost
one frame, one write and one acknowledgement instead of ``k``.

**What may join what.** While a connection's frames wait for the flusher, a live event joins
the waiting notification of its type (:class:`Joinable`), unless that would put it ahead of an
earlier event of the same Sync object: the order of one object's events is what the SDK needs
(event ids grow per object), while events of different objects never were ordered among
themselves. Any other frame queued (a reply, a replay, a ``client_update``) ends every open
batch, so nothing moves past it, and while a chat command of the connection waits for its reply
nothing joins at all: the command's events then take frames of their own, newer than the mark
the reply waits for (``ordering.py``). A batch keeps the frame id of the notification it grew
from, so the ids still grow along the connection and an acknowledgement still means that every
event queued before it was handed over.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from chinwag.realtime.twilsock.codec import Notification

#: the twilio-chat major version from which the Sync client reads ``events`` (SDK 6.0.0 with
#: twilio-sync 3.4.0; 5.0.2's twilio-sync 1.0.0 reads only ``event``)
FIRST_MAJOR = 6


def accepts_batches(metadata: object) -> bool:
    """Whether an init's ``metadata`` names twilio-chat for JavaScript, version 6 or newer (the
    SDK fills in ``sdk: "JS"`` and ``sdkv`` itself unless the app overrides them)."""
    if not isinstance(metadata, Mapping) or metadata.get("sdk") != "JS":
        return False
    version = metadata.get("sdkv")
    if not isinstance(version, str):
        return False
    major = version.partition(".")[0]
    return major.isdigit() and len(major) < 4 and int(major) >= FIRST_MAJOR


def live_event(message_type: str, payload: Mapping[str, Any], object_sid: str) -> Notification:
    """The notification of one live event, ``{"event_type": …, "event": …}``, that may join a
    batch: the event's own JSON is kept to be spliced into one."""
    event = orjson.dumps(payload["event"])
    event_type = payload["event_type"]
    notification = Notification(message_type, _typed(event_type) + b',"event":' + event + b"}")
    notification.batchable = (event_type, event, object_sid)
    return notification


class Batch:
    """A queued notification that live events joined: written as one frame with their array."""

    __slots__ = ("events", "frame_id", "head", "message_type")

    def __init__(self, first: Notification, frame_id: str) -> None:
        assert first.batchable is not None
        event_type, event, _ = first.batchable
        self.message_type = first.message_type
        self.frame_id = frame_id
        self.head = _typed(event_type) + b',"events":['
        self.events = [event]

    def frame(self) -> bytes:
        payload = b"".join((self.head, b",".join(self.events), b"]}"))
        return Notification(self.message_type, payload).frame(self.frame_id)


def _typed(event_type: str) -> bytes:
    """A payload's start, ``{"event_type":…``, which ``,"event":…}`` or ``,"events":[…]}``
    completes."""
    return orjson.dumps({"event_type": event_type})[:-1]


class Joinable:
    """Which queued notification a live event may still join, per connection: for each event
    type the queue position of the newest notification of that type, and for each Sync object
    the position of its newest event (:meth:`join` refuses to move an event ahead of it)."""

    __slots__ = ("_objects", "_types")

    def __init__(self) -> None:
        self._types: dict[str, int] = {}
        self._objects: dict[str, int] = {}

    def queued(self, notification: Notification | None, position: int) -> None:
        """A frame was queued at ``position``: a live event's notification (which later
        events of its type may join), or anything else (``None``: nothing moves past it)."""
        parts = notification.batchable if notification is not None else None
        if parts is None:
            self.clear()
            return
        event_type, _, object_sid = parts
        self._types[event_type] = position
        self._objects[object_sid] = position

    def join_at(self, notification: Notification) -> int | None:
        """The position of the queued notification that ``notification`` joins, if any (it is
        then counted there)."""
        parts = notification.batchable
        if parts is None:
            return None
        event_type, _, object_sid = parts
        position = self._types.get(event_type)
        if position is None or self._objects.get(object_sid, -1) > position:
            return None
        self._objects[object_sid] = position
        return position

    def clear(self) -> None:
        """The queue was written: nothing waits to be joined."""
        self._types.clear()
        self._objects.clear()

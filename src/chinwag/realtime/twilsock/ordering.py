"""Read your own writes at the transport: a command's reply is handled after its own events.

When a chat command's reply reaches the SDK, the change it made must already be visible to
that client: after ``await channel.join()`` the channel's ``status`` is ``joined`` and
``channelJoined`` has fired. The SDK itself waits for nothing but the reply
(docs/client-versions.md), so the order has to come from the server. Queueing the command's
Sync events ahead of its reply (``SyncConnection.settle``) is not enough on its own, because
the twilsock client handles the two kinds of frame differently:

- a ``notification`` is acknowledged at once and handed to Sync on the next timer turn
  (``setTimeout(…, 0)``, at least a millisecond later: twilsock ``client.js``);
- a ``reply`` resolves the request's promise at once, in the same turn that read it.

Two frames read in one turn (one TCP segment, or a backlog) therefore reach the application
reply first. So before a command's reply, :class:`Acks` waits until the client has
acknowledged the last notification queued for it (it has read that frame, and scheduled its
handling), then :data:`HANDOFF_SECONDS` more: the reply is read on a later turn than the
notifications' timers, which run first. A command that produced no notification for its own
connection waits for nothing. While a command waits for its reply, its connection's frames
leave one write each (``outbound.py``; measured: batched into one write, the SDK 5 and 6
sometimes resolved a command before handling the last of its events). The wait is bounded
(:data:`ACK_TIMEOUT_SECONDS`): a client that never acknowledges (a raw socket) still gets its
reply.
"""

from __future__ import annotations

import asyncio
import contextlib

from chinwag.realtime.context import Request
from chinwag.realtime.twilsock.codec import MAX_ID_DIGITS
from chinwag.realtime.watermark import Watermark

#: the header that marks a chat command (client-protocol 3.1: ``mutateResource``)
COMMAND_HEADER = "x-twilio-mutation-id"
#: how long a reply waits for the command's own events to be queued (a database read each)
SETTLE_SECONDS = 2.0
#: how long a reply waits for the client to acknowledge the notifications queued before it
ACK_TIMEOUT_SECONDS = 2.0
#: after the acknowledgement: longer than the client's ``setTimeout(…, 0)`` (1 ms in Node and
#: browsers), with room for a client that is descheduled right after acknowledging: if the
#: reply arrives meanwhile, the client reads it in the same pass as the notification, before
#: that timer. 5 ms let the SDK resolve a command before its own events in 3 runs of 6 with two
#: busy processes on two cores; 20 ms in none of 6 (``tests/realtime/test_sdk_versions.py``)
HANDOFF_SECONDS = 0.02


class Acks:
    """The notifications queued for one connection and how far the client acknowledged them.

    Server frame ids are ``TS<n>`` with ``n`` growing on each connection (``session.server_id``;
    a notification fanned out keeps one id on every connection where it is the newest:
    :meth:`follows`), and the client acknowledges in the order it reads, so one number per
    direction is enough.
    """

    __slots__ = ("_acked", "_highest", "_queued")

    def __init__(self) -> None:
        self._queued = 0
        #: the number of the newest server frame of any kind queued so far
        self._highest = 0
        self._acked = Watermark()

    @property
    def queued(self) -> int:
        """A mark: the number of the last notification queued so far (0 before any)."""
        return self._queued

    def follows(self, number: int) -> bool:
        """Whether server frame ``TS<number>`` is newer than every one queued so far: only
        then may a notification keep the id it has on other connections."""
        return number > self._highest

    def sent(self, number: int) -> None:
        """Notification ``TS<number>`` was queued."""
        if number > self._queued:
            self._queued = number
            if number > self._highest:
                self._highest = number

    def other(self, number: int) -> None:
        """A server frame that is not a notification (``client_update``) was queued: a reply
        does not wait for it, but later notifications' ids must be newer."""
        self._highest = max(self._highest, number)

    def acknowledged(self, number: int) -> None:
        """The client's ``reply`` to server frame ``TS<number>`` (:func:`frame_number`)."""
        self._acked.raise_to(number)

    async def handed_over(self, since: int) -> None:
        """Return once the client has handed every notification queued after mark ``since``
        (and before this call) to its application; at once if there were none."""
        target = self._queued
        if target <= since:
            return
        acked = self._acked.wait_for(target)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(acked, ACK_TIMEOUT_SECONDS)
        finally:
            self._acked.forget(acked)
        await asyncio.sleep(HANDOFF_SECONDS)


def is_command(request: Request) -> bool:
    """A chat command (5.x and 6.x SDKs): a write carrying ``X-Twilio-Mutation-Id``, whose
    reply is where the SDK's promise resolves."""
    return request.method != "GET" and any(k.lower() == COMMAND_HEADER for k in request.headers)


def frame_number(frame_id: object) -> int:
    """``n`` of a server frame id ``TS<n>``; 0 for any other id (acknowledging nothing)."""
    if not isinstance(frame_id, str) or not frame_id.startswith("TS"):
        return 0
    digits = frame_id[2:]
    return int(digits) if digits.isdigit() and len(digits) <= MAX_ID_DIGITS else 0

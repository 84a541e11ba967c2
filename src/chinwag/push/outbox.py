"""Which changes notify whom, written to the push outbox inside the change's transaction.

==================  ==============================  ========================================
event               notification kind               recipients
==================  ==============================  ========================================
MessageAdded        ``new_message``                 the channel's members with a registration,
                                                    but the author and members who muted it
MemberAdded         ``added_to_channel``            the added user, unless they joined
InviteAdded         ``invited_to_channel``          the invited user
MemberRemoved       ``removed_from_channel``        the removed user, unless they left
==================  ==============================  ========================================

Each only when the Service's ``Notifications.<Event>.Enabled`` is true; recipients are found
later, by the dispatcher (``push/dispatcher.py``), so a message to a channel of 1,000 costs its
request one row. ``${USER}`` is who caused the change: the author, the inviter, or the chat
user who added or removed; a REST call has no user and is ``system``, as in ``created_by``.
"""

from __future__ import annotations

from collections.abc import Callable

from chinwag.clock import Clock
from chinwag.domain.channels import SYSTEM
from chinwag.model.events import Event, InviteAdded, MemberAdded, MemberRemoved, MessageAdded
from chinwag.storage.database import Txn
from chinwag.storage.stores import push_outbox as store
from chinwag.storage.stores import services as service_store


def push_event(event: Event) -> store.NewPushEvent | None:
    """The push ``event`` calls for, before the Service's settings are consulted."""
    actor = event.actor.identity or SYSTEM
    if isinstance(event, MessageAdded):
        m = event.message
        return store.NewPushEvent(
            m.account_sid,
            m.service_sid,
            "new_message",
            m.channel_sid,
            m.author,
            message_sid=m.sid,
            message_index=m.index,
            body=m.body,
        )
    if isinstance(event, MemberAdded | MemberRemoved):
        member = event.member
        if member.identity == event.actor.identity:
            return None  # joined or left by themselves: nobody to tell
        kind = "added_to_channel" if isinstance(event, MemberAdded) else "removed_from_channel"
        return store.NewPushEvent(
            member.account_sid,
            member.service_sid,
            kind,
            member.channel_sid,
            actor,
            recipient=member.identity,
        )
    if isinstance(event, InviteAdded):
        invite = event.invite
        return store.NewPushEvent(
            invite.account_sid,
            invite.service_sid,
            "invited_to_channel",
            invite.channel_sid,
            invite.created_by,
            recipient=invite.identity,
        )
    return None


class PushOutbox:
    """The domain's ``PushQueue`` port: :meth:`enqueue_txn` runs for every event in its
    transaction (``Deps.emit``)."""

    def __init__(self, clock: Clock, wake: Callable[[], None], *, enabled: bool = True) -> None:
        self.clock = clock
        self.wake = wake
        self.enabled = enabled

    def may_enqueue(self) -> bool:
        return self.enabled

    async def enqueue_txn(self, txn: Txn, event: Event) -> None:
        """Queue the push ``event`` calls for, if its Service enabled that kind."""
        push = push_event(event) if self.enabled else None
        if push is None:
            return
        setting = await service_store.push_setting_txn(
            txn, push.account_sid, push.service_sid, push.kind
        )
        if setting is None:
            return
        await store.insert_event_txn(txn, push, self.clock.now_ms())
        txn.call_after(self.wake)

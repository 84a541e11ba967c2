"""Which Sync objects a connected identity may open and subscribe to (client protocol 6.4).

One rule, :func:`may_see`, over facts read in one place (:func:`check_txn`), so a shared
permission policy can replace the rule without touching the reads:

- its own channels map and info map, and any other user's info map in its service;
- the document of a public channel, or of a channel it belongs to, is invited to or created
  (the REST channel list shows a chat user the private channels it created, and the SDK opens
  a channel's document as soon as ``createChannel`` answers);
- the roster and messages of a channel it has joined.

A missing object (or one in another service) is "not found"; an existing one the identity may
not see is "forbidden" (403, 54007).
"""

from __future__ import annotations

from dataclasses import dataclass

from chinwag import errors
from chinwag.realtime.sync.objects import ObjectType, SyncObject
from chinwag.storage.database import Txn
from chinwag.storage.stores import sync as store


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rule needs to know about the identity and the object's owner."""

    is_self: bool = False
    public: bool = False
    joined: bool = False
    invited: bool = False
    creator: bool = False


def may_see(object_type: ObjectType, facts: Facts) -> bool:
    if object_type is ObjectType.USER_INFO:
        return True
    if object_type is ObjectType.USER_CHANNELS:
        return facts.is_self
    if object_type is ObjectType.CHANNEL:
        return facts.public or facts.joined or facts.invited or facts.creator
    return facts.joined


async def check_txn(
    txn: Txn, service_sid: str, identity: str, obj: SyncObject, not_found: errors.ChinwagError
) -> None:
    """Raise ``not_found`` or :class:`~chinwag.errors.SyncAccessForbiddenError`, or return."""
    facts = await _facts_txn(txn, service_sid, identity, obj)
    if facts is None:
        raise not_found
    if not may_see(obj.type, facts):
        raise errors.SyncAccessForbiddenError()


async def _facts_txn(txn: Txn, service_sid: str, identity: str, obj: SyncObject) -> Facts | None:
    if obj.type in (ObjectType.USER_CHANNELS, ObjectType.USER_INFO):
        user = await store.user_view_txn(txn, obj.owner_sid)
        if user is None or user.service_sid != service_sid:
            return None
        return Facts(is_self=user.identity == identity)
    channel = await store.channel_view_txn(txn, obj.owner_sid)
    if channel is None or channel.service_sid != service_sid:
        return None
    joined, invited = await store.participation_txn(txn, channel.sid, identity)
    return Facts(
        public=channel.type == "public",
        joined=joined,
        invited=invited,
        creator=channel.created_by == identity,
    )


@dataclass(frozen=True, slots=True)
class Audience:
    """Who may see a channel's objects, read at once for re-checking live subscriptions."""

    public: bool
    created_by: str
    joined: frozenset[str]
    invited: frozenset[str]

    def admits(self, object_type: ObjectType, identity: str) -> bool:
        facts = Facts(
            public=self.public,
            joined=identity in self.joined,
            invited=identity in self.invited,
            creator=identity == self.created_by,
        )
        return may_see(object_type, facts)


async def channel_audience_txn(txn: Txn, channel_sid: str) -> Audience | None:
    channel = await store.channel_view_txn(txn, channel_sid)
    if channel is None:
        return None
    joined, invited = await store.channel_audience_txn(txn, channel_sid)
    return Audience(
        channel.type == "public", channel.created_by, frozenset(joined), frozenset(invited)
    )

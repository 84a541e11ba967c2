"""Which Sync objects a connected identity may open and subscribe to (client protocol 6.4).

Sync has no access rule of its own: each object type is something the policy decides
(``chinwag.domain.policy``, the same answer REST and the chat commands get), and this module
only reads the object's owner and where the identity stands:

- a user info map: any user of its service (``VIEW_USER``);
- a user channels map: its own (``LIST_USER_CHANNELS``);
- a channel document and roster: who may see the channel (``VIEW_CHANNEL``,
  ``LIST_MEMBERS``: public, or member, invited or creator);
- a messages list: members (``READ_MESSAGES``).

A missing object (or one in another service) is "not found"; an existing one the identity may
not see is "forbidden" (403, 54007).
"""

from __future__ import annotations

from chinwag import errors
from chinwag.domain import policy
from chinwag.domain.policy import Action, Audience, Standing
from chinwag.realtime.sync.objects import ObjectType, SyncObject
from chinwag.storage.database import Txn
from chinwag.storage.stores import sync as store

ACTIONS: dict[ObjectType, Action] = {
    ObjectType.USER_INFO: Action.VIEW_USER,
    ObjectType.USER_CHANNELS: Action.LIST_USER_CHANNELS,
    ObjectType.CHANNEL: Action.VIEW_CHANNEL,
    ObjectType.ROSTER: Action.LIST_MEMBERS,
    ObjectType.MESSAGES: Action.READ_MESSAGES,
}


async def check_txn(
    txn: Txn, service_sid: str, identity: str, obj: SyncObject, not_found: errors.ChinwagError
) -> None:
    """Raise ``not_found`` or :class:`~chinwag.errors.SyncAccessForbiddenError`, or return."""
    action = ACTIONS[obj.type]
    own = False
    if obj.type in (ObjectType.USER_CHANNELS, ObjectType.USER_INFO):
        user = await store.user_view_txn(txn, obj.owner_sid)
        if user is None or user.service_sid != service_sid:
            raise not_found
        standing, own = Standing(frozenset()), user.identity == identity
    else:
        channel = await store.channel_view_txn(txn, obj.owner_sid)
        if channel is None or channel.service_sid != service_sid:
            raise not_found
        standing = await policy.viewer_standing_txn(
            txn,
            channel.sid,
            identity,
            public=channel.type == "public",
            created_by=channel.created_by,
        )
    if not policy.may_see(standing, action, own=own):
        raise errors.SyncAccessForbiddenError()


async def channel_audience_txn(txn: Txn, channel_sid: str) -> Audience | None:
    """Where everyone stands in the channel, or None once it is gone."""
    channel = await store.channel_view_txn(txn, channel_sid)
    if channel is None:
        return None
    return await policy.audience_txn(
        txn, channel_sid, public=channel.type == "public", created_by=channel.created_by
    )


def admits(audience: Audience, object_type: ObjectType, identity: str) -> bool:
    """Whether ``identity`` may still see a channel object of ``object_type``."""
    return policy.may_see(audience.standing(identity), ACTIONS[object_type])

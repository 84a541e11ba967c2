"""Domain events -> Sync event ids and change records, inside the change's transaction.

This is the ``Deps.projection`` port. For each chat event it claims event ids from the owner
rows and records which items of which objects changed (``storage/stores/sync.py``). Item data
is never copied: readers build it from the chat tables (``views.py``). After commit it wakes
the owners' feeds, which read the new events from the database; the wake is only a hint.

Which objects each event touches (keys in brackets):

=======================  =========================================================================
event                    objects
=======================  =========================================================================
MessageAdded             messages list [index] added, channel document (``lastMessage``); both ids
                         are claimed by the message store's own UPDATE, so nothing is written here
MessageUpdated           messages list [index] updated
MessageRemoved           messages list [index] removed, channel document
ChannelUpdated           channel document
ChannelRemoved           every member's and invitee's channels map [channel] removed; the channel's
                         three objects are removed (their change index is dropped)
MemberAdded              roster [member] added; the user's channels map [channel] added, or updated
                         from ``invited`` to ``joined``
MemberUpdated            roster [member] updated; channels map [channel] (consumption horizon,
                         notification level; a change of the level alone touches only this)
MemberRemoved            roster [member] removed; channels map [channel] removed
InviteAdded              the invitee's channels map [channel] added
InviteRemoved            channels map [channel] removed, unless the invitee just became a member
UserUpdated              user info [friendlyName], [attributes] updated
UserReachabilityChanged  user info [reachability] updated
UserRemoved              the roster [member] of each channel the user was in; the user's two objects
                         are removed
ServiceRemoved           every object of the service is removed
=======================  =========================================================================

Cascades: a channel, user or service delete emits only its own event, after its rows are
gone. The change index is what remembers the rest: it holds every live item of every user's
channels map (with the member SID as ``ref``), so the projection derives the removals a client
needs from it instead of asking the domain for more events.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from chinwag import sids
from chinwag.model import events as ev
from chinwag.model.records import User
from chinwag.realtime.sync import objects
from chinwag.storage.database import Txn
from chinwag.storage.stores import members as member_store
from chinwag.storage.stores import sync as store

#: wake(owners): after commit, the channel and user SIDs whose objects have new events;
#: ``ALL`` means every object (a service was deleted); ``REVOKE`` + a channel SID means someone
#: lost access to that channel's objects, so live subscriptions to them are checked again
Wake = Callable[[tuple[str, ...]], None]
ALL = "*"
REVOKE = "-"

_Handler = Callable[[Txn, Any], Awaitable[tuple[str, ...]]]


class SyncProjection:
    def __init__(self, wake: Wake) -> None:
        self._wake = wake
        self._handlers: dict[type[ev.Event], _Handler] = {
            ev.MessageAdded: _message_added,
            ev.MessageUpdated: _message_updated,
            ev.MessageRemoved: _message_removed,
            ev.ChannelUpdated: _channel_updated,
            ev.ChannelRemoved: _channel_removed,
            ev.MemberAdded: _member_added,
            ev.MemberUpdated: _member_updated,
            ev.MemberRemoved: _member_removed,
            ev.InviteAdded: _invite_added,
            ev.InviteRemoved: _invite_removed,
            ev.UserUpdated: _user_updated,
            ev.UserReachabilityChanged: _reachability_changed,
            ev.UserRemoved: _user_removed,
            ev.ServiceRemoved: _service_removed,
        }

    async def record_txn(self, txn: Txn, event: ev.Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is None:
            return
        owners = await handler(txn, event)
        if owners:
            txn.call_after(self._wake, owners)


async def _message_added(txn: Txn, e: ev.MessageAdded) -> tuple[str, ...]:
    return (e.message.channel_sid,)


async def _message_updated(txn: Txn, e: ev.MessageUpdated) -> tuple[str, ...]:
    m = e.message
    event_id = await store.claim_channel_ids_txn(txn, m.channel_sid, 1)
    if event_id is None:
        return ()
    added = await store.message_added_event_txn(txn, m.channel_sid, m.index)
    lst = objects.messages_list(m.channel_sid)
    await store.record_txn(
        txn, m.service_sid, lst.sid, str(m.index), event_id, added_event_id=added
    )
    return (m.channel_sid,)


async def _message_removed(txn: Txn, e: ev.MessageRemoved) -> tuple[str, ...]:
    m = e.message
    event_id = await store.claim_channel_ids_txn(txn, m.channel_sid, 2, document=True)
    if event_id is None:
        return ()
    lst = objects.messages_list(m.channel_sid)
    await store.record_txn(
        txn, m.service_sid, lst.sid, str(m.index), event_id - 1, added_event_id=0, removed=True
    )
    return (m.channel_sid,)


async def _channel_updated(txn: Txn, e: ev.ChannelUpdated) -> tuple[str, ...]:
    await store.claim_channel_ids_txn(txn, e.channel.sid, 1, document=True)
    return (e.channel.sid,)


async def _channel_removed(txn: Txn, e: ev.ChannelRemoved) -> tuple[str, ...]:
    c = e.channel
    users = []
    for map_sid in await store.holders_of_key_txn(txn, c.sid, sids.SYNC_USER_CHANNELS_MAP):
        user_sid = sids.USER + map_sid[2:]
        event_id = await store.claim_user_ids_by_sid_txn(txn, user_sid, 1)
        if event_id is not None:
            await store.record_txn(
                txn, c.service_sid, map_sid, c.sid, event_id, added_event_id=0, removed=True
            )
            users.append(user_sid)
    await store.forget_objects_txn(txn, [o.sid for o in objects.channel_objects(c.sid)])
    return (c.sid, *users)


async def _user_map_change(
    txn: Txn,
    service_sid: str,
    identity: str,
    channel_sid: str,
    *,
    added: bool = False,
    removed: bool = False,
    member_sid: str | None = None,
) -> tuple[str, ...]:
    claimed = await store.claim_user_ids_txn(txn, service_sid, identity, 1)
    if claimed is None:
        return ()
    user_sid, event_id = claimed
    await store.record_txn(
        txn,
        service_sid,
        objects.user_channels_map(user_sid).sid,
        channel_sid,
        event_id,
        added_event_id=None if added else 0,
        removed=removed,
        ref=member_sid,
    )
    return (user_sid,)


async def _roster_change(
    txn: Txn, e: ev.MemberAdded | ev.MemberUpdated | ev.MemberRemoved
) -> tuple[str, ...]:
    m = e.member
    if isinstance(e, ev.MemberUpdated) and not e.roster:
        return await _user_map_change(txn, m.service_sid, m.identity, m.channel_sid)
    event_id = await store.claim_channel_ids_txn(txn, m.channel_sid, 1)
    if event_id is None:
        return ()
    added = isinstance(e, ev.MemberAdded)
    removed = isinstance(e, ev.MemberRemoved)
    await store.record_txn(
        txn,
        m.service_sid,
        objects.roster_map(m.channel_sid).sid,
        m.sid,
        event_id,
        added_event_id=None if added else 0,
        removed=removed,
    )
    user = await _user_map_change(
        txn,
        m.service_sid,
        m.identity,
        m.channel_sid,
        added=added,
        removed=removed,
        member_sid=None if removed else m.sid,
    )
    revoke = (REVOKE + m.channel_sid,) if removed else ()
    return (m.channel_sid, *user, *revoke)


_member_added = _member_updated = _member_removed = _roster_change


async def _invite_added(txn: Txn, e: ev.InviteAdded) -> tuple[str, ...]:
    i = e.invite
    return await _user_map_change(txn, i.service_sid, i.identity, i.channel_sid, added=True)


async def _invite_removed(txn: Txn, e: ev.InviteRemoved) -> tuple[str, ...]:
    i = e.invite
    if await member_store.find_member_txn(txn, i.channel_sid, "identity", i.identity):
        return ()  # accepted: the MemberAdded that follows turns the item to ``joined``
    user = await _user_map_change(txn, i.service_sid, i.identity, i.channel_sid, removed=True)
    return (*user, REVOKE + i.channel_sid)


async def _user_info_change(txn: Txn, u: User, keys: tuple[str, ...]) -> tuple[str, ...]:
    """Items ``keys`` of the user's info map updated, one event each, in order."""
    last = await store.claim_user_ids_by_sid_txn(txn, u.sid, len(keys))
    if last is None:
        return ()
    info = objects.user_info_map(u.sid).sid
    for event_id, key in enumerate(keys, start=last - len(keys) + 1):
        await store.record_txn(txn, u.service_sid, info, key, event_id, added_event_id=0)
    return (u.sid,)


async def _user_updated(txn: Txn, e: ev.UserUpdated) -> tuple[str, ...]:
    return await _user_info_change(txn, e.user, ("friendlyName", "attributes"))


async def _reachability_changed(txn: Txn, e: ev.UserReachabilityChanged) -> tuple[str, ...]:
    return await _user_info_change(txn, e.user, ("reachability",))


async def _user_removed(txn: Txn, e: ev.UserRemoved) -> tuple[str, ...]:
    u = e.user
    channels: list[str] = []
    for channel_sid, member_sid in await store.live_refs_txn(
        txn, objects.user_channels_map(u.sid).sid
    ):
        event_id = await store.claim_channel_ids_txn(txn, channel_sid, 1)
        if event_id is not None:
            roster = objects.roster_map(channel_sid).sid
            await store.record_txn(
                txn, u.service_sid, roster, member_sid, event_id, added_event_id=0, removed=True
            )
            channels.extend((channel_sid, REVOKE + channel_sid))
    await store.forget_objects_txn(txn, [o.sid for o in objects.user_objects(u.sid)])
    return (u.sid, *channels)


async def _service_removed(txn: Txn, e: ev.ServiceRemoved) -> tuple[str, ...]:
    await store.forget_service_txn(txn, e.service.sid)
    return (ALL,)

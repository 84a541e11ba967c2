"""The user's channel list (User Channels): one row per channel the user is a member of or
invited to, with its read horizon, unread count and notification level.

Reads are the user's own business (``Action.LIST_USER_CHANNELS``); an update is the member's
own settings (read horizon, notification level), changed through the membership.
"""

from __future__ import annotations

import dataclasses

from chinwag import errors
from chinwag.domain import members, policy
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.lookups import get_service, get_service_channel, get_user
from chinwag.domain.once import Once
from chinwag.domain.policy import Action
from chinwag.model.records import Channel, Page, PageRequest, Service, User, UserChannel
from chinwag.storage.database import Txn
from chinwag.storage.stores import channels as channel_store
from chinwag.storage.stores import user_channels as user_channel_store


async def list_user_channels(
    deps: Deps, caller: Caller, service_sid: str, key: str, req: PageRequest
) -> Page[UserChannel]:
    """The user's memberships and pending invites.

    ``unread_messages_count`` is null without a consumption horizon, and null for everyone
    when the service has read status turned off.
    """

    async def read(txn: Txn) -> Page[UserChannel]:
        service, user = await _check_user_channels_txn(txn, caller, service_sid, key)
        page = await user_channel_store.list_user_channels_txn(
            txn, caller.account_sid, service_sid, user, req
        )
        items = [_read_status(service, uc) for uc in page.items]
        return dataclasses.replace(page, items=items)

    return await deps.db.run_read("list_user_channels", read)


async def list_user_channels_with_channels(
    deps: Deps, caller: Caller, service_sid: str, key: str, req: PageRequest
) -> Page[tuple[UserChannel, Channel]]:
    """A page of the user's channel list with each row's channel, in a constant number of
    queries (one for the rows, one for their channels) whatever the page size.

    Every listed channel is one the user is a member of or invited to, which is what lets
    them view it, so no per-row policy check is needed beyond the list's own.
    """

    async def read(txn: Txn) -> Page[tuple[UserChannel, Channel]]:
        service, user = await _check_user_channels_txn(txn, caller, service_sid, key)
        page = await user_channel_store.list_user_channels_txn(
            txn, caller.account_sid, service_sid, user, req
        )
        found = await channel_store.find_channels_txn(
            txn, service_sid, [uc.channel_sid for uc in page.items]
        )
        items = [
            (_read_status(service, uc), found[uc.channel_sid])
            for uc in page.items
            if uc.channel_sid in found
        ]
        return Page(items, page.next_key, page.prev_key)

    return await deps.db.run_read("list_user_channels_with_channels", read)


async def fetch_user_channel(
    deps: Deps, caller: Caller, service_sid: str, key: str, channel_key: str
) -> UserChannel:
    """One row of the user's channel list (a channel by SID or unique name); 404 when the
    user is neither a member of it nor invited to it."""

    async def read(txn: Txn) -> UserChannel:
        found, _ = await _find_txn(txn, caller, service_sid, key, channel_key)
        return found

    return await deps.db.run_read("fetch_user_channel", read)


async def _check_user_channels_txn(
    txn: Txn, caller: Caller, service_sid: str, key: str
) -> tuple[Service, User]:
    service = await get_service(txn, caller.account_sid, service_sid)
    user = await get_user(txn, service_sid, key)
    await policy.authorize_txn(
        txn, caller.actor, service_sid, None, Action.LIST_USER_CHANNELS, owner=user.identity
    )
    return service, user


def _read_status(service: Service, uc: UserChannel) -> UserChannel:
    """Unread counts are null for everyone when the service has read status turned off."""
    if service.read_status_enabled:
        return uc
    return dataclasses.replace(uc, unread_messages_count=None)


async def fetch_user_channel_with_channel(
    deps: Deps, caller: Caller, service_sid: str, key: str, channel_key: str
) -> tuple[UserChannel, Channel]:
    """:func:`fetch_user_channel` with the channel it names, read together."""
    return await deps.db.run_read(
        "fetch_user_channel", _find_txn, caller, service_sid, key, channel_key
    )


async def _find_txn(
    txn: Txn, caller: Caller, service_sid: str, key: str, channel_key: str
) -> tuple[UserChannel, Channel]:
    service, user = await _check_user_channels_txn(txn, caller, service_sid, key)
    channel = await get_service_channel(txn, caller.account_sid, service_sid, channel_key)
    found = await user_channel_store.find_user_channel_txn(
        txn, caller.account_sid, service_sid, user, channel.sid
    )
    if found is None:
        raise errors.NotFoundError()
    return _read_status(service, found), channel


async def update_user_channel(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    key: str,
    channel_key: str,
    cmd: members.UpdateMember,
    *,
    once: Once[tuple[UserChannel, Channel]] | None = None,
) -> tuple[UserChannel, Channel]:
    """Change the user's own settings in one channel (read horizon, notification level) and
    answer the row as it is then, with its channel, all in one transaction."""
    members.check_update(deps, caller, service_sid, channel_key, cmd)

    async def txn_fn(txn: Txn) -> tuple[UserChannel, Channel]:
        user = await get_user(txn, service_sid, key)
        await members.update_member_txn(
            deps, txn, caller, service_sid, channel_key, user.identity, cmd
        )
        return await _find_txn(txn, caller, service_sid, key, channel_key)

    return await deps.write("update_user_channel", txn_fn, once)


async def leave_user_channel(
    deps: Deps, caller: Caller, service_sid: str, key: str, channel_key: str
) -> None:
    """Take the user out of the channel (Chat v2's DeleteUserChannel): the same removal as
    deleting their membership, with its policy check, pre-event and webhooks. A pending invite
    is not a membership: 404, as for a channel the user is not in."""

    async def identity_of(txn: Txn) -> str:
        _, user = await _check_user_channels_txn(txn, caller, service_sid, key)
        return user.identity

    identity = await deps.db.run_read("leave_user_channel", identity_of)
    await members.delete_member(deps, caller, service_sid, channel_key, identity)

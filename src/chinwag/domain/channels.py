"""Channels: chat rooms, public or private, addressable by SID or unique name.

Each operation is a check step (validate; resolve and authorize inside a transaction) and a do
step (the write transaction, which checks again, so nothing changes between check and write).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from chinwag import errors, sids
from chinwag.domain import policy, validation
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.lookups import get_service, get_service_channel
from chinwag.domain.once import Once
from chinwag.domain.policy import Action
from chinwag.domain.pre_events import ChannelAdd, ChannelDestroy, ChannelUpdate
from chinwag.model.events import ChannelAdded, ChannelRemoved, ChannelUpdated
from chinwag.model.records import Channel, ChannelType, Page, PageRequest
from chinwag.model.unset import UNSET, Unset, is_empty_update, pick
from chinwag.storage.database import Txn
from chinwag.storage.stores import channel_webhooks as channel_webhook_store
from chinwag.storage.stores import channels as store

#: ``created_by`` for channels (and invites) created through the REST API.
SYSTEM = "system"


@dataclass(frozen=True)
class CreateChannel:
    friendly_name: str | None = None
    unique_name: str | None = None
    attributes: str | None = None
    type: ChannelType = "public"
    #: Chat v2's overrides for imports of history (REST only): the dates (``date_updated``
    #: defaults to ``date_created``) and the creator (else the caller, ``system`` for REST)
    date_created: int | None = None
    date_updated: int | None = None
    created_by: str | None = None


@dataclass(frozen=True)
class UpdateChannel:
    friendly_name: str | Unset | None = UNSET
    unique_name: str | Unset | None = UNSET
    attributes: str | Unset | None = UNSET
    #: Chat v2's overrides (REST only); ``date_updated`` defaults to now
    date_created: int | Unset = UNSET
    date_updated: int | Unset = UNSET
    created_by: str | Unset = UNSET
    #: Chat v3's change of type (REST only)
    type: ChannelType | Unset = UNSET


def check_unique_name(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > validation.NAME_MAX:
        raise errors.UniqueNameTooLongError(limit=validation.NAME_MAX)
    if sids.looks_like(sids.CHANNEL, value):
        raise errors.UniqueNameMatchesSidError()
    return value


async def _check_name_free(
    txn: Txn, account_sid: str, service_sid: str, unique_name: str | None
) -> None:
    if unique_name is not None and (
        await store.find_channel_txn(txn, account_sid, service_sid, "unique_name", unique_name)
        is not None
    ):
        raise errors.UniqueNameExistsError()


def _check_create(cmd: CreateChannel) -> CreateChannel:
    validation.check_friendly_name(cmd.friendly_name)
    check_unique_name(cmd.unique_name)
    validation.check_attributes(cmd.attributes)
    if cmd.created_by is not None:
        validation.check_author(cmd.created_by)
    return cmd


async def create_channel(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    cmd: CreateChannel,
    *,
    once: Once[Channel] | None = None,
) -> Channel:
    """A chat user's channel records them as ``created_by``; creating does not join it."""
    deps.limits.count_service(service_sid)
    cmd = _check_create(cmd)
    created_by = cmd.created_by or caller.actor.identity or SYSTEM

    async def build(txn: Txn) -> ChannelAdd:
        await check_create_channel_txn(txn, caller, service_sid)
        return ChannelAdd(cmd.type, cmd.friendly_name, cmd.unique_name, cmd.attributes, created_by)

    pre = await deps.pre_event(caller, service_sid, build)
    if pre is not None:
        cmd = _check_create(
            dataclasses.replace(
                cmd,
                friendly_name=pre.friendly_name,
                unique_name=pre.unique_name,
                attributes=pre.attributes,
            )
        )
    return await do_create_channel(deps, caller, service_sid, cmd, created_by, once=once)


async def check_create_channel_txn(txn: Txn, caller: Caller, service_sid: str) -> None:
    await get_service(txn, caller.account_sid, service_sid)
    await policy.authorize_txn(txn, caller.actor, service_sid, None, Action.CREATE_CHANNEL)


async def do_create_channel(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    cmd: CreateChannel,
    created_by: str,
    *,
    once: Once[Channel] | None = None,
) -> Channel:
    async def txn_fn(txn: Txn) -> Channel:
        await check_create_channel_txn(txn, caller, service_sid)
        await _check_name_free(txn, caller.account_sid, service_sid, cmd.unique_name)
        created = deps.clock.now_ms() if cmd.date_created is None else cmd.date_created
        channel = Channel(
            sid=deps.sids.new(sids.CHANNEL),
            account_sid=caller.account_sid,
            service_sid=service_sid,
            friendly_name=cmd.friendly_name,
            unique_name=cmd.unique_name,
            attributes=cmd.attributes,
            type=cmd.type,
            created_by=created_by,
            members_count=0,
            messages_count=0,
            last_message_sid=None,
            date_created=created,
            date_updated=created if cmd.date_updated is None else cmd.date_updated,
        )
        with txn.on_unique_violation(errors.UniqueNameExistsError):
            await store.insert_channel_txn(txn, channel)
        await deps.emit(txn, ChannelAdded(caller.actor, channel))
        return channel

    return await deps.write("create_channel", txn_fn, once)


async def check_channel_txn(
    txn: Txn,
    caller: Caller,
    service_sid: str,
    key: str,
    *actions: Action,
    for_update: bool = False,
) -> Channel:
    """Resolve a channel and authorize ``actions`` on it (viewing, when none are given)."""
    channel = await get_service_channel(
        txn, caller.account_sid, service_sid, key, for_update=for_update
    )
    await policy.authorize_txn(txn, caller.actor, service_sid, channel, *actions)
    return channel


async def fetch_channel(deps: Deps, caller: Caller, service_sid: str, key: str) -> Channel:
    return await deps.db.run_read("fetch_channel", check_channel_txn, caller, service_sid, key)


async def list_channels(
    deps: Deps, caller: Caller, service_sid: str, types: Sequence[str], req: PageRequest
) -> Page[Channel]:
    """Channels of the given types; none given means public only, as on Twilio. A chat user
    sees only the private channels they belong to, are invited to or created."""
    identity = policy.chat_identity(caller.actor)

    async def read(txn: Txn) -> Page[Channel]:
        await get_service(txn, caller.account_sid, service_sid)
        if identity is not None:
            return await store.list_visible_channels_txn(
                txn, service_sid, types or ("public",), identity, req
            )
        return await store.list_channels_txn(txn, service_sid, types or ("public",), req)

    return await deps.db.run_read("list_channels", read)


def _check_update(cmd: UpdateChannel) -> UpdateChannel:
    if cmd.friendly_name is not UNSET:
        validation.check_friendly_name(cmd.friendly_name)
    if cmd.unique_name is not UNSET:
        check_unique_name(cmd.unique_name)
    if cmd.attributes is not UNSET:
        validation.check_attributes(cmd.attributes)
    if cmd.created_by is not UNSET:
        validation.check_author(cmd.created_by)
    return cmd


def _update_actions(cmd: UpdateChannel) -> tuple[Action, ...]:
    """Names and attributes are separate permissions (reference 5.1)."""
    actions = []
    if cmd.friendly_name is not UNSET or cmd.unique_name is not UNSET:
        actions.append(Action.EDIT_CHANNEL_NAME)
    if cmd.attributes is not UNSET:
        actions.append(Action.EDIT_CHANNEL_ATTRIBUTES)
    return tuple(actions)


async def update_channel(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    key: str,
    cmd: UpdateChannel,
    *,
    once: Once[Channel] | None = None,
) -> Channel:
    deps.limits.count_channel(service_sid, key)
    if is_empty_update(cmd):
        raise errors.NoChannelUpdateParametersError()
    cmd = _check_update(cmd)
    actions = _update_actions(cmd)

    async def build(txn: Txn) -> ChannelUpdate:
        channel = await check_channel_txn(txn, caller, service_sid, key, *actions)
        return ChannelUpdate(channel, cmd.friendly_name, cmd.unique_name, cmd.attributes)

    pre = await deps.pre_event(caller, service_sid, build)
    if pre is not None:
        cmd = _check_update(
            dataclasses.replace(
                cmd,
                friendly_name=pre.friendly_name,
                unique_name=pre.unique_name,
                attributes=pre.attributes,
            )
        )
    return await do_update_channel(deps, caller, service_sid, key, cmd, actions, once=once)


async def do_update_channel(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    key: str,
    cmd: UpdateChannel,
    actions: tuple[Action, ...],
    *,
    once: Once[Channel] | None = None,
) -> Channel:
    """``actions``: what the caller asked to change, authorized again here (changes a
    pre-event endpoint asked for need no permission of the user's)."""

    async def txn_fn(txn: Txn) -> Channel:
        old = await check_channel_txn(txn, caller, service_sid, key, *actions, for_update=True)
        new_unique = pick(cmd.unique_name, old.unique_name)
        if new_unique != old.unique_name:
            await _check_name_free(txn, caller.account_sid, service_sid, new_unique)
        new = dataclasses.replace(
            old,
            friendly_name=pick(cmd.friendly_name, old.friendly_name),
            unique_name=new_unique,
            attributes=pick(cmd.attributes, old.attributes),
            type=pick(cmd.type, old.type),
            created_by=pick(cmd.created_by, old.created_by),
            date_created=pick(cmd.date_created, old.date_created),
            date_updated=pick(cmd.date_updated, deps.clock.now_ms()),
        )
        with txn.on_unique_violation(errors.UniqueNameExistsError):
            await store.update_channel_txn(txn, new)
        await deps.emit(txn, ChannelUpdated(caller.actor, new))
        return new

    return await deps.write("update_channel", txn_fn, once)


async def delete_channel(
    deps: Deps, caller: Caller, service_sid: str, key: str, *, once: Once[None] | None = None
) -> None:
    deps.limits.count_service(service_sid)

    async def build(txn: Txn) -> ChannelDestroy:
        channel = await check_channel_txn(txn, caller, service_sid, key, Action.DESTROY_CHANNEL)
        return ChannelDestroy(channel)

    await deps.pre_event(caller, service_sid, build)
    await do_delete_channel(deps, caller, service_sid, key, once=once)


async def do_delete_channel(
    deps: Deps, caller: Caller, service_sid: str, key: str, *, once: Once[None] | None = None
) -> None:
    async def txn_fn(txn: Txn) -> None:
        channel = await check_channel_txn(
            txn, caller, service_sid, key, Action.DESTROY_CHANNEL, for_update=True
        )
        await store.delete_channel_txn(txn, channel)
        await deps.emit(txn, ChannelRemoved(caller.actor, channel))
        # after the emit: the channel's own webhooks are told it was destroyed
        await channel_webhook_store.delete_webhooks_of_txn(txn, channel.sid)

    await deps.write("delete_channel", txn_fn, once)

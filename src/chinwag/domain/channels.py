"""Channels: chat rooms, public or private, addressable by SID or unique name."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from chinwag import errors, sids
from chinwag.domain import pre_events, rules
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.events import ChannelAdded, ChannelRemoved, ChannelUpdated
from chinwag.domain.lookups import get_service, get_service_channel
from chinwag.domain.models import Channel, ChannelType, Page, PageRequest
from chinwag.domain.unset import UNSET, Unset, is_empty_update, pick
from chinwag.storage.database import Txn
from chinwag.storage.stores import channels as store
from chinwag.webhooks import payloads

#: ``created_by`` for channels (and invites) created through the REST API.
SYSTEM = "system"


@dataclass(frozen=True)
class CreateChannel:
    friendly_name: str | None = None
    unique_name: str | None = None
    attributes: str | None = None
    type: ChannelType = "public"


@dataclass(frozen=True)
class UpdateChannel:
    friendly_name: str | Unset | None = UNSET
    unique_name: str | Unset | None = UNSET
    attributes: str | Unset | None = UNSET


def _check_unique_name(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > rules.NAME_MAX:
        raise errors.UniqueNameTooLongError()
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


async def create_channel(
    deps: Deps, caller: Caller, service_sid: str, cmd: CreateChannel
) -> Channel:
    friendly_name = rules.check_friendly_name(cmd.friendly_name)
    unique_name = _check_unique_name(cmd.unique_name)
    attributes = rules.check_attributes(cmd.attributes)
    created_by = caller.actor.identity or SYSTEM
    if deps.webhooks.runs_pre(caller.actor):
        params = payloads.pre_channel_add(
            cmd.type, friendly_name, unique_name, attributes, created_by
        )
        changes = await deps.webhooks.pre(caller, service_sid, "onChannelAdd", params)
        friendly_name = rules.check_friendly_name(
            pre_events.text(changes, "friendlyName", friendly_name)
        )
        unique_name = _check_unique_name(pre_events.text(changes, "uniqueName", unique_name))
        attributes = rules.check_attributes(pre_events.attributes(changes, attributes))

    async def txn_fn(txn: Txn) -> Channel:
        await get_service(txn, caller.account_sid, service_sid)
        await _check_name_free(txn, caller.account_sid, service_sid, unique_name)
        now = deps.clock.now_ms()
        channel = Channel(
            sid=deps.sids.new(sids.CHANNEL),
            account_sid=caller.account_sid,
            service_sid=service_sid,
            friendly_name=friendly_name,
            unique_name=unique_name,
            attributes=attributes,
            type=cmd.type,
            created_by=created_by,
            members_count=0,
            messages_count=0,
            last_message_sid=None,
            date_created=now,
            date_updated=now,
        )
        with txn.on_unique_violation(errors.UniqueNameExistsError):
            await store.insert_channel_txn(txn, channel)
        await deps.emit(txn, ChannelAdded(caller.actor, channel))
        return channel

    return await deps.db.run_in_txn("create_channel", txn_fn)


async def fetch_channel(deps: Deps, caller: Caller, service_sid: str, key: str) -> Channel:
    return await deps.db.run_read(
        "fetch_channel", get_service_channel, caller.account_sid, service_sid, key
    )


async def list_channels(
    deps: Deps, caller: Caller, service_sid: str, types: Sequence[str], req: PageRequest
) -> Page[Channel]:
    """Channels of the given types; none given means public only, as on Twilio."""

    async def read(txn: Txn) -> Page[Channel]:
        await get_service(txn, caller.account_sid, service_sid)
        return await store.list_channels_txn(txn, service_sid, types or ("public",), req)

    return await deps.db.run_read("list_channels", read)


async def update_channel(
    deps: Deps, caller: Caller, service_sid: str, key: str, cmd: UpdateChannel
) -> Channel:
    if is_empty_update(cmd):
        raise errors.NoChannelUpdateParametersError()
    friendly_name = cmd.friendly_name
    if friendly_name is not UNSET:
        rules.check_friendly_name(friendly_name)
    unique_name = cmd.unique_name
    if unique_name is not UNSET:
        unique_name = _check_unique_name(unique_name)
    attributes = cmd.attributes
    if attributes is not UNSET:
        attributes = rules.check_attributes(attributes)
    if deps.webhooks.runs_pre(caller.actor):
        current = await deps.db.run_read(
            "pre_update_channel", get_service_channel, caller.account_sid, service_sid, key
        )
        proposed = dataclasses.replace(
            current,
            friendly_name=pick(friendly_name, current.friendly_name),
            unique_name=pick(unique_name, current.unique_name),
            attributes=pick(attributes, current.attributes),
        )
        changes = await deps.webhooks.pre(
            caller, service_sid, "onChannelUpdate", payloads.channel_fields(proposed)
        )
        if "friendlyName" in changes:
            friendly_name = rules.check_friendly_name(
                pre_events.text(changes, "friendlyName", None)
            )
        if "uniqueName" in changes:
            unique_name = _check_unique_name(pre_events.text(changes, "uniqueName", None))
        if "attributes" in changes:
            attributes = rules.check_attributes(pre_events.attributes(changes, None))

    async def txn_fn(txn: Txn) -> Channel:
        old = await get_service_channel(txn, caller.account_sid, service_sid, key, for_update=True)
        new_unique = pick(unique_name, old.unique_name)
        if new_unique != old.unique_name:
            await _check_name_free(txn, caller.account_sid, service_sid, new_unique)
        new = dataclasses.replace(
            old,
            friendly_name=pick(friendly_name, old.friendly_name),
            unique_name=new_unique,
            attributes=pick(attributes, old.attributes),
            date_updated=deps.clock.now_ms(),
        )
        with txn.on_unique_violation(errors.UniqueNameExistsError):
            await store.update_channel_txn(txn, new)
        await deps.emit(txn, ChannelUpdated(caller.actor, new))
        return new

    return await deps.db.run_in_txn("update_channel", txn_fn)


async def delete_channel(deps: Deps, caller: Caller, service_sid: str, key: str) -> None:
    if deps.webhooks.runs_pre(caller.actor):
        doomed = await deps.db.run_read(
            "pre_delete_channel", get_service_channel, caller.account_sid, service_sid, key
        )
        await deps.webhooks.pre(
            caller, service_sid, "onChannelDestroy", payloads.channel_fields(doomed)
        )

    async def txn_fn(txn: Txn) -> None:
        channel = await get_service_channel(
            txn, caller.account_sid, service_sid, key, for_update=True
        )
        await store.delete_channel_txn(txn, channel)
        await deps.emit(txn, ChannelRemoved(caller.actor, channel))

    await deps.db.run_in_txn("delete_channel", txn_fn)

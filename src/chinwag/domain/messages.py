"""Messages: sent to a channel, indexed from 0 per channel, never renumbered."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from chinwag import errors, sids
from chinwag.domain import pre_events, rules
from chinwag.domain.channels import SYSTEM
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.events import MessageAdded, MessageRemoved, MessageUpdated
from chinwag.domain.lookups import channel_column, get_service_channel
from chinwag.domain.models import Message, NewMessage, Page, PageRequest
from chinwag.domain.unset import UNSET, Unset, is_empty_update, pick
from chinwag.storage.database import Txn
from chinwag.storage.stores import messages as store
from chinwag.webhooks import payloads


@dataclass(frozen=True)
class CreateMessage:
    body: str
    from_: str | None = None
    attributes: str | None = None


@dataclass(frozen=True)
class UpdateMessage:
    body: str | Unset = UNSET
    attributes: str | Unset | None = UNSET


def _check_body(body: str) -> str:
    if len(body) > rules.BODY_MAX:
        raise errors.BodyTooLongError()
    return body


async def send_message(
    deps: Deps, caller: Caller, service_sid: str, channel_key: str, cmd: CreateMessage
) -> Message:
    """The hot path: everything but storing happens outside the transaction, and storing is a
    single statement where the engine allows it."""
    body = _check_body(cmd.body)
    attributes = rules.check_attributes(cmd.attributes)
    author = cmd.from_ or caller.actor.identity or SYSTEM
    if len(author) > rules.AUTHOR_MAX:
        raise errors.AuthorTooLongError()
    by = channel_column(channel_key)
    if not sids.looks_like(sids.SERVICE, service_sid):
        raise errors.NotFoundError()
    if deps.webhooks.runs_pre(caller.actor):
        channel = await deps.db.run_read(
            "pre_send_message", get_service_channel, caller.account_sid, service_sid, channel_key
        )
        params = payloads.pre_message_send(channel.sid, body, attributes, author)
        changes = await deps.webhooks.pre(caller, service_sid, "onMessageSend", params)
        body = _check_body(pre_events.text(changes, "body", body) or "")
        attributes = rules.check_attributes(pre_events.attributes(changes, attributes))
    sid = deps.sids.new(sids.MESSAGE)

    new = NewMessage(
        sid, caller.account_sid, service_sid, author, body, attributes, deps.clock.now_ms()
    )

    async def txn_fn(txn: Txn) -> Message:
        message = await store.append_message_txn(txn, by, channel_key, new)
        if message is None:
            raise errors.NotFoundError()
        await deps.emit(txn, MessageAdded(caller.actor, message))
        return message

    return await deps.db.run_in_txn("send_message", deps.single_statement(caller.actor, txn_fn))


async def _get(txn: Txn, account_sid: str, service_sid: str, channel_key: str, sid: str) -> Message:
    message = None
    if sids.looks_like(sids.MESSAGE, sid):
        message = await store.find_channel_message_txn(
            txn, account_sid, service_sid, channel_column(channel_key), channel_key, sid
        )
    if message is None:
        raise errors.NotFoundError()
    return message


async def fetch_message(
    deps: Deps, caller: Caller, service_sid: str, channel_key: str, sid: str
) -> Message:
    return await deps.db.run_read(
        "fetch_message", _get, caller.account_sid, service_sid, channel_key, sid
    )


async def list_messages(
    deps: Deps, caller: Caller, service_sid: str, channel_key: str, req: PageRequest
) -> Page[Message]:
    """By index, ascending unless ``req.descending`` (``Order=desc``)."""

    async def read(txn: Txn) -> Page[Message]:
        channel = await get_service_channel(txn, caller.account_sid, service_sid, channel_key)
        return await store.list_messages_txn(txn, channel.sid, req)

    return await deps.db.run_read("list_messages", read)


async def update_message(
    deps: Deps, caller: Caller, service_sid: str, channel_key: str, sid: str, cmd: UpdateMessage
) -> Message:
    """Edit body and/or attributes; sending a Body marks the message ``was_edited``."""
    if is_empty_update(cmd):
        raise errors.NoUpdateParametersError()
    body = cmd.body if cmd.body is UNSET else _check_body(cmd.body)
    attributes = cmd.attributes
    if attributes is not UNSET:
        attributes = rules.check_attributes(attributes)
    if deps.webhooks.runs_pre(caller.actor):
        old = await deps.db.run_read(
            "pre_update_message", _get, caller.account_sid, service_sid, channel_key, sid
        )
        proposed = dataclasses.replace(
            old, body=pick(body, old.body), attributes=pick(attributes, old.attributes)
        )
        params = payloads.pre_message_change(proposed, "ModifiedBy", caller.actor)
        changes = await deps.webhooks.pre(caller, service_sid, "onMessageUpdate", params)
        if "body" in changes:
            body = _check_body(pre_events.text(changes, "body", proposed.body) or "")
        if "attributes" in changes:
            attributes = rules.check_attributes(pre_events.attributes(changes, None))

    async def txn_fn(txn: Txn) -> Message:
        old = await _get(txn, caller.account_sid, service_sid, channel_key, sid)
        new = dataclasses.replace(
            old,
            body=pick(body, old.body),
            attributes=pick(attributes, old.attributes),
            was_edited=old.was_edited or body is not UNSET,
            date_updated=deps.clock.now_ms(),
        )
        await store.update_message_txn(txn, new)
        await deps.emit(txn, MessageUpdated(caller.actor, new))
        return new

    return await deps.db.run_in_txn("update_message", txn_fn)


async def delete_message(
    deps: Deps, caller: Caller, service_sid: str, channel_key: str, sid: str
) -> None:
    if deps.webhooks.runs_pre(caller.actor):
        doomed = await deps.db.run_read(
            "pre_delete_message", _get, caller.account_sid, service_sid, channel_key, sid
        )
        params = payloads.pre_message_change(doomed, "RemovedBy", caller.actor)
        await deps.webhooks.pre(caller, service_sid, "onMessageRemove", params)

    async def txn_fn(txn: Txn) -> None:
        message = await _get(txn, caller.account_sid, service_sid, channel_key, sid)
        if not await store.delete_message_txn(txn, message):
            raise errors.NotFoundError()
        await deps.emit(txn, MessageRemoved(caller.actor, message))

    await deps.db.run_in_txn("delete_message", txn_fn)

"""Messages: sent to a channel, indexed from 0 per channel, never renumbered.

Each operation is a check step (validate; resolve and authorize inside a transaction) and a do
step (the write transaction, which checks again, so nothing changes between check and write).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from chinwag import errors, sids
from chinwag.domain import media, policy, validation
from chinwag.domain.channels import SYSTEM, check_channel_txn
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.lookups import channel_column, get_service_channel
from chinwag.domain.once import Once
from chinwag.domain.policy import Action
from chinwag.domain.pre_events import MessageRemove, MessageSend, MessageUpdate
from chinwag.model.events import MessageAdded, MessageRemoved, MessageUpdated
from chinwag.model.records import Channel, Message, NewMessage, Page, PageRequest
from chinwag.model.unset import UNSET, Unset, is_empty_update, pick
from chinwag.storage.database import Txn
from chinwag.storage.stores import messages as store


@dataclass(frozen=True)
class CreateMessage:
    body: str
    from_: str | None = None
    attributes: str | None = None
    #: an upload (``ME…``) of the author's to send as a media message (chat clients, and
    #: Chat v2's ``MediaSid``); the body is then empty
    media_sid: str | None = None
    #: Chat v2's overrides for imports of history (REST only); ``date_updated`` defaults to
    #: ``date_created``
    date_created: int | None = None
    date_updated: int | None = None
    last_updated_by: str | None = None


@dataclass(frozen=True)
class UpdateMessage:
    body: str | Unset = UNSET
    attributes: str | Unset | None = UNSET
    #: Chat v2's REST parameters: a new author, who updated it, and the dates (``date_updated``
    #: defaults to now)
    from_: str | Unset = UNSET
    last_updated_by: str | Unset | None = UNSET
    date_created: int | Unset = UNSET
    date_updated: int | Unset = UNSET


def _check_body(body: str) -> str:
    if len(body) > validation.BODY_MAX:
        raise errors.BodyTooLongError(limit=validation.BODY_MAX)
    return body


def _author(caller: Caller, from_: str | None) -> str:
    """A chat user writes as themselves [inferred]; the REST API as anyone (``system`` when
    unnamed)."""
    identity = caller.actor.identity
    if policy.is_checked(caller.actor) and from_ is not None and from_ != identity:
        raise errors.UserNotAuthorizedError()
    author = from_ or identity or SYSTEM
    if len(author) > validation.AUTHOR_MAX:
        raise errors.AuthorTooLongError(limit=validation.AUTHOR_MAX)
    return author


async def send_message(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    cmd: CreateMessage,
    *,
    once: Once[Message] | None = None,
) -> Message:
    """The hot path: everything but storing happens outside the transaction, and storing is a
    single statement where the engine allows it (for the REST API, whom the policy does not
    check, so no query is added)."""
    deps.limits.count_channel(service_sid, channel_key)
    body = _check_body(cmd.body)
    if cmd.media_sid is not None and body:
        raise errors.InvalidParameterError(name="body", expected="empty in a media message")
    attributes = validation.check_attributes(cmd.attributes)
    author = _author(caller, cmd.from_)
    if cmd.last_updated_by is not None:
        validation.check_author(cmd.last_updated_by)
    if not sids.looks_like(sids.SERVICE, service_sid):
        raise errors.NotFoundError()
    with_media = cmd.media_sid is not None

    async def build(txn: Txn) -> MessageSend:
        channel = await check_send_message_txn(
            txn, caller, service_sid, channel_key, media=with_media
        )
        return MessageSend(channel, body, attributes, author)

    pre = await deps.pre_event(caller, service_sid, build)
    if pre is not None:
        body = _check_body(pre.body)
        attributes = validation.check_attributes(pre.attributes)
    new = NewMessage(
        deps.sids.new(sids.MESSAGE),
        caller.account_sid,
        service_sid,
        author,
        body,
        attributes,
        deps.clock.now_ms() if cmd.date_created is None else cmd.date_created,
        None,
        cmd.date_updated,
        cmd.last_updated_by,
    )
    return await do_send_message(deps, caller, channel_key, new, media_sid=cmd.media_sid, once=once)


async def check_send_message_txn(
    txn: Txn, caller: Caller, service_sid: str, channel_key: str, *, media: bool = False
) -> Channel:
    """A media message needs ``sendMediaMessage`` where a text message needs ``sendMessage``."""
    action = Action.SEND_MEDIA_MESSAGE if media else Action.SEND_MESSAGE
    return await check_channel_txn(txn, caller, service_sid, channel_key, action)


async def do_send_message(
    deps: Deps,
    caller: Caller,
    channel_key: str,
    new: NewMessage,
    *,
    media_sid: str | None = None,
    once: Once[Message] | None = None,
) -> Message:
    """``media_sid``: the upload the message carries, claimed in the same transaction."""
    by = channel_column(channel_key)

    async def txn_fn(txn: Txn) -> Message:
        stored = new
        if policy.is_checked(caller.actor):  # the REST API's append resolves the channel itself
            await check_send_message_txn(
                txn, caller, new.service_sid, channel_key, media=media_sid is not None
            )
        if media_sid is not None:
            carried = await media.attach_media_txn(
                txn, caller, new.service_sid, media_sid, new.author
            )
            stored = dataclasses.replace(new, media=carried)
        message = await store.append_message_txn(txn, by, channel_key, stored)
        if message is None:
            raise errors.NotFoundError()
        if media_sid is not None:
            await media.mark_sent_txn(txn, media_sid, message.channel_sid, message.sid)
        await deps.emit(txn, MessageAdded(caller.actor, message))
        return message

    unit = txn_fn
    if media_sid is None:
        unit = await deps.single_statement(caller, new.service_sid, "new_message", txn_fn)
    return await deps.write("send_message", unit, once)


async def _get(txn: Txn, account_sid: str, service_sid: str, channel_key: str, sid: str) -> Message:
    message = None
    if sids.looks_like(sids.MESSAGE, sid):
        message = await store.find_channel_message_txn(
            txn, account_sid, service_sid, channel_column(channel_key), channel_key, sid
        )
    if message is None:
        raise errors.NotFoundError()
    return message


async def check_message_txn(
    txn: Txn,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    sid: str,
    *actions: Action,
) -> Message:
    """Resolve a message and authorize ``actions`` on it (reading, when none are given).

    The REST API reads the message in one query; a chat user's standing needs the channel.
    """
    if not policy.is_checked(caller.actor):
        return await _get(txn, caller.account_sid, service_sid, channel_key, sid)
    channel = await get_service_channel(txn, caller.account_sid, service_sid, channel_key)
    message = await _get(txn, caller.account_sid, service_sid, channel.sid, sid)
    await policy.authorize_txn(
        txn,
        caller.actor,
        service_sid,
        channel,
        *(actions or (Action.READ_MESSAGES,)),
        owner=message.author,
    )
    return message


async def fetch_message(
    deps: Deps, caller: Caller, service_sid: str, channel_key: str, sid: str
) -> Message:
    return await deps.db.run_read(
        "fetch_message", check_message_txn, caller, service_sid, channel_key, sid
    )


async def list_messages(
    deps: Deps, caller: Caller, service_sid: str, channel_key: str, req: PageRequest
) -> Page[Message]:
    """By index, ascending unless ``req.descending`` (``Order=desc``)."""

    async def read(txn: Txn) -> Page[Message]:
        channel = await check_channel_txn(
            txn, caller, service_sid, channel_key, Action.READ_MESSAGES
        )
        return await store.list_messages_txn(txn, channel, req)

    return await deps.db.run_read("list_messages", read)


def _update_actions(cmd: UpdateMessage) -> tuple[Action, ...]:
    """Body and attributes are separate permissions (reference 5.1)."""
    actions = []
    if cmd.body is not UNSET:
        actions.append(Action.EDIT_MESSAGE)
    if cmd.attributes is not UNSET:
        actions.append(Action.EDIT_MESSAGE_ATTRIBUTES)
    if cmd.from_ is not UNSET:  # a new author is the body's owner changing: an edit
        actions.append(Action.EDIT_MESSAGE)
    return tuple(dict.fromkeys(actions))


def _check_update(cmd: UpdateMessage) -> UpdateMessage:
    if cmd.body is not UNSET:
        _check_body(cmd.body)
    if cmd.attributes is not UNSET:
        validation.check_attributes(cmd.attributes)
    if cmd.from_ is not UNSET:
        validation.check_author(cmd.from_)
    if isinstance(cmd.last_updated_by, str):
        validation.check_author(cmd.last_updated_by)
    return cmd


def _updated_by(caller: Caller, cmd: UpdateMessage, old: Message) -> str | None:
    """Who last updated the message: as sent, else the chat user making the change; a REST
    update that names no one leaves it as it was."""
    if cmd.last_updated_by is not UNSET:
        return cmd.last_updated_by
    return caller.actor.identity or old.last_updated_by


async def update_message(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    sid: str,
    cmd: UpdateMessage,
    *,
    once: Once[Message] | None = None,
) -> Message:
    """Edit body and/or attributes; sending a Body marks the message ``was_edited``."""
    deps.limits.count_channel(service_sid, channel_key)
    if is_empty_update(cmd):
        raise errors.NoUpdateParametersError()
    cmd = _check_update(cmd)
    if cmd.from_ is not UNSET:
        _author(caller, cmd.from_)  # a chat user can only name themselves
    actions = _update_actions(cmd)

    async def build(txn: Txn) -> MessageUpdate:
        old = await check_message_txn(txn, caller, service_sid, channel_key, sid, *actions)
        return MessageUpdate(old, cmd.body, cmd.attributes)

    pre = await deps.pre_event(caller, service_sid, build)
    if pre is not None:
        cmd = _check_update(dataclasses.replace(cmd, body=pre.body, attributes=pre.attributes))
    return await do_update_message(
        deps, caller, service_sid, channel_key, sid, cmd, actions, once=once
    )


async def do_update_message(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    sid: str,
    cmd: UpdateMessage,
    actions: tuple[Action, ...],
    *,
    once: Once[Message] | None = None,
) -> Message:
    """``actions``: what the caller asked to change, authorized again here (changes a
    pre-event endpoint asked for need no permission of the user's)."""

    async def txn_fn(txn: Txn) -> Message:
        old = await check_message_txn(txn, caller, service_sid, channel_key, sid, *actions)
        new = dataclasses.replace(
            old,
            body=pick(cmd.body, old.body),
            attributes=pick(cmd.attributes, old.attributes),
            was_edited=old.was_edited or cmd.body is not UNSET,
            author=pick(cmd.from_, old.author),
            last_updated_by=_updated_by(caller, cmd, old),
            date_created=pick(cmd.date_created, old.date_created),
            date_updated=pick(cmd.date_updated, deps.clock.now_ms()),
        )
        await store.update_message_txn(txn, new)
        await deps.emit(txn, MessageUpdated(caller.actor, new))
        return new

    return await deps.write("update_message", txn_fn, once)


async def delete_message(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    sid: str,
    *,
    once: Once[None] | None = None,
) -> None:
    deps.limits.count_channel(service_sid, channel_key)

    async def build(txn: Txn) -> MessageRemove:
        doomed = await check_message_txn(
            txn, caller, service_sid, channel_key, sid, Action.DELETE_MESSAGE
        )
        return MessageRemove(doomed)

    await deps.pre_event(caller, service_sid, build)
    await do_delete_message(deps, caller, service_sid, channel_key, sid, once=once)


async def do_delete_message(
    deps: Deps,
    caller: Caller,
    service_sid: str,
    channel_key: str,
    sid: str,
    *,
    once: Once[None] | None = None,
) -> None:
    async def txn_fn(txn: Txn) -> None:
        message = await check_message_txn(
            txn, caller, service_sid, channel_key, sid, Action.DELETE_MESSAGE
        )
        if not await store.delete_message_txn(txn, message):
            raise errors.NotFoundError()
        await deps.emit(txn, MessageRemoved(caller.actor, message))

    await deps.write("delete_message", txn_fn, once)

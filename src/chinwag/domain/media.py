"""Media (MCS): files chat users upload over plain HTTP, then send as a media message.

An upload belongs to its author until a message carries it; from then on whoever may read the
channel's messages may read it. The bytes live in the database with the metadata, so every
process of a multi-host PostgreSQL deployment serves every upload (docs/clients.md); the size
limit (``media_max_bytes``) keeps that affordable.
"""

from __future__ import annotations

from dataclasses import dataclass

from chinwag import errors, sids
from chinwag.domain import policy
from chinwag.domain.channels import check_channel_txn
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.lookups import get_service, get_user
from chinwag.domain.models import Media, MessageMedia
from chinwag.domain.policy import Action
from chinwag.storage.database import Txn
from chinwag.storage.stores import media as store

#: the categories @twilio/mcs-client sends (``media`` unless told otherwise)
CATEGORIES = frozenset({"media", "body", "history"})
CONTENT_TYPE_MAX = 255
FILENAME_MAX = 1024


@dataclass(frozen=True)
class Upload:
    content_type: str
    filename: str | None
    category: str
    content: bytes


def _check_text(value: str, name: str, limit: int) -> str:
    if not value or len(value) > limit or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise errors.InvalidParameterError(name=name)
    return value


def check_upload(cmd: Upload, limit: int) -> Upload:
    if len(cmd.content) > limit:
        raise errors.PayloadTooLargeError(limit=limit)
    if not cmd.content:
        raise errors.MissingParameterError(name="media content")
    _check_text(cmd.content_type, "Content-Type", CONTENT_TYPE_MAX)
    if cmd.filename is not None:
        _check_text(cmd.filename, "Filename", FILENAME_MAX)
    if cmd.category not in CATEGORIES:
        raise errors.InvalidParameterError(name="Category")
    return cmd


async def upload_media(
    deps: Deps, caller: Caller, service_sid: str, identity: str, cmd: Upload, limit: int
) -> Media:
    """Store an upload of ``identity`` (the token's user) in its service."""
    cmd = check_upload(cmd, limit)
    now = deps.clock.now_ms()
    media = Media(
        deps.sids.new(sids.MEDIA),
        caller.account_sid,
        service_sid,
        identity,
        cmd.content_type,
        cmd.filename,
        cmd.category,
        len(cmd.content),
        None,
        None,
        now,
        now,
    )

    async def txn_fn(txn: Txn) -> Media:
        await get_service(txn, caller.account_sid, service_sid)
        await get_user(txn, service_sid, identity)
        await store.insert_media_txn(txn, media, cmd.content)
        return media

    return await deps.db.run_in_txn("upload_media", txn_fn)


async def _readable(txn: Txn, caller: Caller, service_sid: str, sid: str) -> Media:
    """The media if ``caller`` may read it: its author, or a reader of the channel whose
    message carries it. Anyone else gets 404, as if it did not exist."""
    media = None
    if sids.looks_like(sids.MEDIA, sid):
        media = await store.find_media_txn(txn, service_sid, sid)
    if media is None or media.account_sid != caller.account_sid:
        raise errors.NotFoundError()
    if media.author == policy.chat_identity(caller.actor) or not policy.is_checked(caller.actor):
        return media
    if media.channel_sid is None:
        raise errors.NotFoundError()
    await check_channel_txn(txn, caller, service_sid, media.channel_sid, Action.READ_MESSAGES)
    return media


async def fetch_media(deps: Deps, caller: Caller, service_sid: str, sid: str) -> Media:
    return await deps.db.run_read("fetch_media", _readable, caller, service_sid, sid)


async def fetch_media_content(
    deps: Deps, caller: Caller, service_sid: str, sid: str
) -> tuple[Media, bytes]:
    async def read(txn: Txn) -> tuple[Media, bytes]:
        media = await _readable(txn, caller, service_sid, sid)
        return media, await store.media_content_txn(txn, media.sid)

    return await deps.db.run_read("fetch_media_content", read)


async def attach_media_txn(
    txn: Txn, caller: Caller, service_sid: str, sid: str, author: str
) -> MessageMedia:
    """Check that ``author`` may send media ``sid`` in a message (their own upload, in this
    service, not yet sent) and what the message records of it. The caller marks it sent
    (:func:`mark_sent_txn`) once the message has its channel."""
    media = None
    if sids.looks_like(sids.MEDIA, sid):
        media = await store.find_media_txn(txn, service_sid, sid)
    if media is None or media.account_sid != caller.account_sid:
        raise errors.InvalidParameterError(name="media_sid")
    if media.message_sid is not None or media.author != author:
        raise errors.InvalidParameterError(name="media_sid")
    return MessageMedia(media.sid, media.filename, media.content_type, media.size)


async def mark_sent_txn(txn: Txn, media_sid: str, channel_sid: str, message_sid: str) -> None:
    """Record the message carrying the media; a race with another send of it fails this one."""
    if not await store.attach_media_txn(txn, media_sid, channel_sid, message_sid):
        raise errors.InvalidParameterError(name="media_sid")

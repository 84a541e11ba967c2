"""Media (MCS): files chat users upload over plain HTTP, then send as a media message.

An upload belongs to its author until a message carries it; from then on whoever may read the
channel's messages may read it. The bytes live in the database with the metadata, so every
process of a multi-host PostgreSQL deployment serves every upload (docs/clients.md). What one
user can make the server keep is bounded (:class:`MediaLimits`): the size of an upload, the
bytes stored per user (sent or not: deleting a message deletes its media), uploads per
minute, and how long an upload no message carries is kept (:func:`expire_unsent_media`). The
quota and the rate are checked before the body is read, and again in the transaction that
stores it, counting every process's uploads (the database is the counter).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from chinwag import errors, sids
from chinwag.domain import policy
from chinwag.domain.channels import check_channel_txn
from chinwag.domain.deps import Caller, Deps
from chinwag.domain.lookups import get_service, get_user
from chinwag.domain.policy import Action
from chinwag.model.records import Media, MessageMedia
from chinwag.storage.database import Txn
from chinwag.storage.stores import media as store

log = logging.getLogger(__name__)

#: the categories @twilio/mcs-client sends (``media`` unless told otherwise)
CATEGORIES = ("media", "body", "history")
CONTENT_TYPE_MAX = 255
#: what a media message's ``media_sid`` must name
_SENDABLE = "the SID of the sender's own upload in this service, not sent before"
FILENAME_MAX = 1024
#: the window of ``MediaLimits.uploads_per_minute``
RATE_WINDOW_MS = 60_000


@dataclass(frozen=True)
class MediaLimits:
    max_bytes: int
    quota_bytes: int
    uploads_per_minute: int


@dataclass(frozen=True)
class Upload:
    content_type: str
    filename: str | None
    category: str
    #: the bytes, in the chunks they will be stored in (never joined)
    chunks: Sequence[bytes]

    @property
    def size(self) -> int:
        return sum(map(len, self.chunks))


def _check_text(value: str, name: str, limit: int) -> str:
    if not value or len(value) > limit or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise errors.InvalidParameterError(
            name=name, expected=f"1 to {limit} characters without control characters"
        )
    return value


def check_upload(cmd: Upload, limit: int) -> Upload:
    if cmd.size > limit:
        raise errors.PayloadTooLargeError(limit=limit)
    if not cmd.size:
        raise errors.MissingParameterError(name="media content")
    _check_text(cmd.content_type, "Content-Type", CONTENT_TYPE_MAX)
    if cmd.filename is not None:
        _check_text(cmd.filename, "Filename", FILENAME_MAX)
    if cmd.category not in CATEGORIES:
        raise errors.InvalidParameterError(name="Category", expected=errors.one_of(CATEGORIES))
    return cmd


async def _check_usage_txn(
    txn: Txn, deps: Deps, service_sid: str, identity: str, size: int, limits: MediaLimits
) -> None:
    """The user's upload rate, and their quota with ``size`` more bytes (429, 413)."""
    since = deps.clock.now_ms() - RATE_WINDOW_MS
    stored, recent = await store.usage_txn(txn, service_sid, identity, since)
    if recent >= limits.uploads_per_minute:
        raise errors.TooManyRequestsError(
            message=f"Too many uploads: at most {limits.uploads_per_minute} a minute"
        )
    if stored + size > limits.quota_bytes:
        raise errors.MediaQuotaError(limit=limits.quota_bytes)


async def check_may_upload(
    deps: Deps, caller: Caller, service_sid: str, identity: str, size: int, limits: MediaLimits
) -> None:
    """Before an upload's body is read: would ``size`` more bytes (its ``Content-Length``, or 0
    when it declares none) pass the rate and the quota?"""
    if size > limits.max_bytes:
        raise errors.PayloadTooLargeError(limit=limits.max_bytes)
    await deps.db.run_read(
        "check_media_usage", _check_usage_txn, deps, service_sid, identity, size, limits
    )


async def upload_media(
    deps: Deps, caller: Caller, service_sid: str, identity: str, cmd: Upload, limits: MediaLimits
) -> Media:
    """Store an upload of ``identity`` (the token's user) in its service."""
    cmd = check_upload(cmd, limits.max_bytes)
    now = deps.clock.now_ms()
    media = Media(
        deps.sids.new(sids.MEDIA),
        caller.account_sid,
        service_sid,
        identity,
        cmd.content_type,
        cmd.filename,
        cmd.category,
        cmd.size,
        None,
        None,
        now,
        now,
    )

    async def txn_fn(txn: Txn) -> Media:
        await get_service(txn, caller.account_sid, service_sid)
        await get_user(txn, service_sid, identity)
        await _check_usage_txn(txn, deps, service_sid, identity, cmd.size, limits)
        await store.insert_media_txn(txn, media, cmd.chunks)
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
) -> tuple[Media, list[bytes]]:
    """The media and its bytes, chunk by chunk (the caller streams them, never joined)."""

    async def read(txn: Txn) -> tuple[Media, list[bytes]]:
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
        raise errors.InvalidParameterError(name="media_sid", expected=_SENDABLE)
    if media.message_sid is not None or media.author != author:
        raise errors.InvalidParameterError(name="media_sid", expected=_SENDABLE)
    return MessageMedia(media.sid, media.filename, media.content_type, media.size)


async def mark_sent_txn(txn: Txn, media_sid: str, channel_sid: str, message_sid: str) -> None:
    """Record the message carrying the media; a race with another send of it fails this one."""
    if not await store.attach_media_txn(txn, media_sid, channel_sid, message_sid):
        raise errors.InvalidParameterError(name="media_sid", expected=_SENDABLE)


async def expire_unsent_media(deps: Deps, ttl_ms: int) -> int:
    """Delete uploads no message carried within ``ttl_ms`` of their upload, bytes included;
    returns how many."""
    before = deps.clock.now_ms() - ttl_ms
    return await deps.db.run_in_txn("expire_media", store.delete_unsent_txn, before)


class MediaExpiry:
    """This process's sweep of unsent uploads, every half ``ttl`` (at most every minute).

    Every process sweeps; the deletes are idempotent, so several processes only share the work.
    """

    def __init__(self, deps: Deps, ttl_ms: int) -> None:
        self.deps = deps
        self.ttl_ms = ttl_ms
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _sweep_forever(self) -> None:
        interval = min(self.ttl_ms / 2000, 60.0)
        while True:
            await asyncio.sleep(interval)
            try:
                expired = await expire_unsent_media(self.deps, self.ttl_ms)
            except Exception:  # a database outage: the next sweep catches up
                log.warning("could not expire unsent media", exc_info=True)
                continue
            if expired:
                log.info("deleted %d unsent media uploads", expired)

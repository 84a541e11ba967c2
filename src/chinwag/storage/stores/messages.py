"""Messages: the hot path of the whole server (see :func:`append_message_txn`).

Indexes are per channel, start at 0 and are never reused.
"""

from __future__ import annotations

from typing import Literal

import orjson

from chinwag.model.records import Channel, Message, MessageMedia, NewMessage, Page, PageRequest
from chinwag.storage.database import Txn
from chinwag.storage.engines import PlainRow, Row
from chinwag.storage.paging import fetch_page_txn
from chinwag.storage.stores import media as media_store

COLUMNS = (
    "idx, sid, account_sid, service_sid, channel_sid, author, body, attributes, was_edited, "
    "date_created, date_updated, media, last_updated_by"
)


def _media_json(m: MessageMedia | None) -> str | None:
    """``messages.media``: a copy of the media's metadata, so reads need no join."""
    if m is None:
        return None
    fields = {"sid": m.sid, "filename": m.filename, "content_type": m.content_type, "size": m.size}
    return orjson.dumps(fields).decode()


def _media(text: str) -> MessageMedia:
    fields = orjson.loads(text)
    return MessageMedia(fields["sid"], fields["filename"], fields["content_type"], fields["size"])


def message_from_row(row: Row) -> Message:
    # Positional unpacking and construction (in COLUMNS order): message lists map up to 1000
    # rows per request, and lookups by column name or keyword arguments cost about twice as much.
    (
        idx,
        sid,
        account_sid,
        service_sid,
        channel_sid,
        author,
        body,
        attributes,
        edited,
        dc,
        du,
        media,
        last_updated_by,
    ) = row
    return Message(
        sid,
        account_sid,
        service_sid,
        channel_sid,
        idx,
        author,
        body,
        attributes,
        bool(edited),
        dc,
        du,
        None if media is None else _media(media),
        last_updated_by,
    )


async def append_message_txn(
    txn: Txn,
    by: Literal["sid", "unique_name"],
    channel: str,
    m: NewMessage,
) -> Message | None:
    """Store ``m`` at its channel's next index; None if there is no such channel.

    The channel UPDATE takes the index, bumps the counters, claims the two Sync event ids (the
    messages list's addition, then the channel document's new ``lastMessage``: see
    ``stores/sync.py``) and, on PostgreSQL, is the row lock that orders racing writers. Where
    the engine allows, UPDATE and INSERT are one statement (a unit of
    work declared ``single_statement``), so that lock is held only inside the server.
    """
    claim = (
        "UPDATE channels SET messages_count = messages_count + 1, "
        "next_message_index = next_message_index + 1, last_message_sid = $4, "
        "sync_event_id = sync_event_id + 2, document_event_id = sync_event_id + 2 "
        f"WHERE service_sid = $1 AND {by} = $2 AND account_sid = $3 "
        "RETURNING sid, next_message_index - 1 AS idx, sync_event_id - 1 AS event_id"
    )
    if txn.engine.single_statement_writes:
        row = await txn.fetchone(
            f"WITH c AS ({claim}) INSERT INTO messages (sid, account_sid, service_sid, "
            "channel_sid, idx, author, body, attributes, was_edited, date_created, date_updated, "
            "added_event_id, media, last_updated_by) SELECT $4, $3, $1, c.sid, c.idx, $5, $6, "
            "CAST($7 AS TEXT), FALSE, CAST($8 AS BIGINT), CAST($10 AS BIGINT), c.event_id, "
            "CAST($9 AS TEXT), CAST($11 AS TEXT) FROM c RETURNING channel_sid, idx",
            m.service_sid,
            channel,
            m.account_sid,
            m.sid,
            m.author,
            m.body,
            m.attributes,
            m.date_created,
            _media_json(m.media),
            m.date_created if m.date_updated is None else m.date_updated,
            m.last_updated_by,
        )
        return None if row is None else m.stored(row["channel_sid"], row["idx"])
    claimed = await txn.fetchone(claim, m.service_sid, channel, m.account_sid, m.sid)
    if claimed is None:
        return None
    await txn.execute(
        "INSERT INTO messages (sid, account_sid, service_sid, channel_sid, idx, author, body, "
        "attributes, was_edited, date_created, date_updated, added_event_id, media, "
        "last_updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        m.sid,
        m.account_sid,
        m.service_sid,
        claimed["sid"],
        claimed["idx"],
        m.author,
        m.body,
        m.attributes,
        False,
        m.date_created,
        m.date_created if m.date_updated is None else m.date_updated,
        claimed["event_id"],
        _media_json(m.media),
        m.last_updated_by,
    )
    return m.stored(claimed["sid"], claimed["idx"])


_IN_CHANNEL = ", ".join(f"m.{c.strip()}" for c in COLUMNS.split(","))


async def find_channel_message_txn(
    txn: Txn,
    account_sid: str,
    service_sid: str,
    by: Literal["sid", "unique_name"],
    channel: str,
    sid: str,
) -> Message | None:
    """A message by SID within a channel (by SID or unique name) of the account, in one query."""
    row = await txn.fetchone(
        f"SELECT {_IN_CHANNEL} FROM messages m JOIN channels c ON c.sid = m.channel_sid "
        f"WHERE m.sid = $1 AND c.service_sid = $2 AND c.{by} = $3 AND c.account_sid = $4",
        sid,
        service_sid,
        channel,
        account_sid,
    )
    return None if row is None else message_from_row(row)


_LISTED = (
    "idx, sid, author, body, attributes, was_edited, date_created, date_updated, media, "
    "last_updated_by"
)


async def list_messages_txn(txn: Txn, channel: Channel, req: PageRequest) -> Page[Message]:
    """A page of ``channel``'s messages.

    Every message of a channel shares its account, service and channel SIDs, so they come from
    ``channel`` rather than from each row: text columns are most of what a page costs to read,
    and these three were a large share of them.
    """
    account_sid, service_sid, channel_sid = channel.account_sid, channel.service_sid, channel.sid

    def to_message(row: PlainRow) -> Message:
        # message_from_row's construction, inlined: not a second call per row of every page
        idx, sid, author, body, attributes, edited, dc, du, media, updated_by = row
        return Message(
            sid,
            account_sid,
            service_sid,
            channel_sid,
            idx,
            author,
            body,
            attributes,
            bool(edited),
            dc,
            du,
            None if media is None else _media(media),
            updated_by,
        )

    return await fetch_page_txn(
        txn,
        f"SELECT {_LISTED} FROM messages WHERE channel_sid = $1",
        (channel_sid,),
        "idx",
        req,
        to_message,
        plain=True,
    )


async def update_message_txn(txn: Txn, m: Message) -> None:
    await txn.execute(
        "UPDATE messages SET body = $2, attributes = $3, was_edited = $4, date_updated = $5, "
        "author = $6, last_updated_by = $7, date_created = $8 WHERE sid = $1",
        m.sid,
        m.body,
        m.attributes,
        m.was_edited,
        m.date_updated,
        m.author,
        m.last_updated_by,
        m.date_created,
    )


async def delete_message_txn(txn: Txn, m: Message) -> bool:
    """Delete a message (and its media); the channel's count drops and ``last_message`` falls
    back if needed.

    Returns False (and changes nothing) when a concurrent delete got there first.
    """
    if not await txn.execute("DELETE FROM messages WHERE sid = $1", m.sid):
        return False
    if m.media is not None:
        await media_store.delete_media_of_txn(txn, "message_sid", m.sid)
    await txn.execute(
        "INSERT INTO message_tombstones (channel_sid, idx) VALUES ($1, $2)", m.channel_sid, m.index
    )
    await txn.execute(
        "UPDATE channels SET messages_count = messages_count - 1, last_message_sid = CASE "
        "WHEN last_message_sid = $2 THEN (SELECT sid FROM messages WHERE channel_sid = $1 "
        "ORDER BY idx DESC LIMIT 1) ELSE last_message_sid END WHERE sid = $1",
        m.channel_sid,
        m.sid,
    )
    return True

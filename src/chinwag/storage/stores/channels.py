"""Channels, their counters, and the channel cascade."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from chinwag.model.records import Channel, Page, PageRequest
from chinwag.storage.database import Txn
from chinwag.storage.engines import Row
from chinwag.storage.paging import fetch_page_txn
from chinwag.storage.placeholders import placeholders
from chinwag.storage.stores import media as media_store

_COLUMNS = (
    "id, sid, account_sid, service_sid, friendly_name, unique_name, attributes, type, "
    "created_by, members_count, messages_count, last_message_sid, date_created, date_updated"
)


def _channel(row: Row) -> Channel:
    return Channel(
        sid=row["sid"],
        account_sid=row["account_sid"],
        service_sid=row["service_sid"],
        friendly_name=row["friendly_name"],
        unique_name=row["unique_name"],
        attributes=row["attributes"],
        type=row["type"],
        created_by=row["created_by"],
        members_count=row["members_count"],
        messages_count=row["messages_count"],
        last_message_sid=row["last_message_sid"],
        date_created=row["date_created"],
        date_updated=row["date_updated"],
    )


async def find_channel_txn(
    txn: Txn,
    account_sid: str,
    service_sid: str,
    by: Literal["sid", "unique_name"],
    value: str,
    *,
    for_update: bool = False,
) -> Channel | None:
    lock = txn.engine.for_update if for_update else ""
    row = await txn.fetchone(
        f"SELECT {_COLUMNS} FROM channels "
        f"WHERE service_sid = $1 AND {by} = $2 AND account_sid = $3 {lock}",
        service_sid,
        value,
        account_sid,
    )
    return None if row is None else _channel(row)


async def find_channels_txn(txn: Txn, service_sid: str, sids: Sequence[str]) -> dict[str, Channel]:
    """The service's channels among ``sids``, by SID, in one query (a page's channels)."""
    if not sids:
        return {}
    marks = placeholders(2, len(sids))
    rows = await txn.fetchall(
        f"SELECT {_COLUMNS} FROM channels WHERE service_sid = $1 AND sid IN ({marks})",
        service_sid,
        *sids,
    )
    return {row["sid"]: _channel(row) for row in rows}


async def list_channels_txn(
    txn: Txn, service_sid: str, types: Sequence[str], req: PageRequest
) -> Page[Channel]:
    """Channels of the given types; both types is the whole service (served by another index)."""
    args: tuple[str, ...]
    if set(types) >= {"public", "private"}:
        where, args = "service_sid = $1", (service_sid,)
    else:
        where, args = "service_sid = $1 AND type = $2", (service_sid, types[0])
    return await fetch_page_txn(
        txn, f"SELECT {_COLUMNS} FROM channels WHERE {where}", args, "id", req, _channel
    )


async def insert_channel_txn(txn: Txn, c: Channel) -> None:
    await txn.execute(
        "INSERT INTO channels (sid, account_sid, service_sid, friendly_name, unique_name, "
        "attributes, type, created_by, members_count, messages_count, next_message_index, "
        "last_message_sid, date_created, date_updated) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, 0, NULL, $9, $10)",
        c.sid,
        c.account_sid,
        c.service_sid,
        c.friendly_name,
        c.unique_name,
        c.attributes,
        c.type,
        c.created_by,
        c.date_created,
        c.date_updated,
    )


async def update_channel_txn(txn: Txn, c: Channel) -> None:
    await txn.execute(
        "UPDATE channels SET friendly_name = $2, unique_name = $3, attributes = $4, "
        "date_updated = $5, type = $6, created_by = $7, date_created = $8 WHERE sid = $1",
        c.sid,
        c.friendly_name,
        c.unique_name,
        c.attributes,
        c.date_updated,
        c.type,
        c.created_by,
        c.date_created,
    )


async def add_members_count_txn(txn: Txn, channel_sid: str, delta: int) -> None:
    await txn.execute(
        "UPDATE channels SET members_count = members_count + $2 WHERE sid = $1",
        channel_sid,
        delta,
    )


async def delete_channel_txn(txn: Txn, c: Channel) -> None:
    """Delete a channel with its messages (and their media), members and invites; members'
    users lose a count. Its webhooks go after its onChannelDestroyed is enqueued
    (``channel_webhooks.delete_webhooks_of_txn``), so they hear of it."""
    await txn.execute(
        "UPDATE users SET joined_channels_count = joined_channels_count - 1 "
        "WHERE service_sid = $1 "
        "AND identity IN (SELECT identity FROM members WHERE channel_sid = $2)",
        c.service_sid,
        c.sid,
    )
    for table in ("messages", "message_tombstones", "members", "invites"):
        await txn.execute(f"DELETE FROM {table} WHERE channel_sid = $1", c.sid)
    await media_store.delete_media_of_txn(txn, "channel_sid", c.sid)
    await txn.execute("DELETE FROM channels WHERE sid = $1", c.sid)


async def list_visible_channels_txn(
    txn: Txn, service_sid: str, types: Sequence[str], identity: str, req: PageRequest
) -> Page[Channel]:
    """Channels of the given types a chat user may see: public ones, and private ones they
    belong to, are invited to, or created."""
    type_filter = "" if set(types) >= {"public", "private"} else " AND type = $3"
    where = (
        "service_sid = $1 AND (type = 'public' OR created_by = $2 "
        "OR sid IN (SELECT channel_sid FROM members WHERE service_sid = $1 AND identity = $2) "
        "OR sid IN (SELECT channel_sid FROM invites WHERE service_sid = $1 AND identity = $2))"
        f"{type_filter}"
    )
    args = (service_sid, identity) if not type_filter else (service_sid, identity, types[0])
    return await fetch_page_txn(
        txn, f"SELECT {_COLUMNS} FROM channels WHERE {where}", args, "id", req, _channel
    )

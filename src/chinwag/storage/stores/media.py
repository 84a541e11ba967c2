"""Media uploads and their bytes, in chunks of ``media_chunks`` (read apart from the metadata:
a listing never loads them). Chunks let an upload go in and out without one statement, or one
buffer, holding it whole."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from chinwag.model.records import Media
from chinwag.storage.database import Txn
from chinwag.storage.engines import Row

_COLUMNS = (
    "sid, account_sid, service_sid, author, content_type, filename, category, size, "
    "channel_sid, message_sid, date_created, date_updated"
)


def _media(row: Row) -> Media:
    return Media(
        sid=row["sid"],
        account_sid=row["account_sid"],
        service_sid=row["service_sid"],
        author=row["author"],
        content_type=row["content_type"],
        filename=row["filename"],
        category=row["category"],
        size=row["size"],
        channel_sid=row["channel_sid"],
        message_sid=row["message_sid"],
        date_created=row["date_created"],
        date_updated=row["date_updated"],
    )


async def insert_media_txn(txn: Txn, m: Media, chunks: Sequence[bytes]) -> None:
    """The media row, then its bytes, one row per chunk, in order."""
    await txn.execute(
        f"INSERT INTO media ({_COLUMNS}) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        m.sid,
        m.account_sid,
        m.service_sid,
        m.author,
        m.content_type,
        m.filename,
        m.category,
        m.size,
        m.channel_sid,
        m.message_sid,
        m.date_created,
        m.date_updated,
    )
    for seq, chunk in enumerate(chunks):
        await txn.execute(
            "INSERT INTO media_chunks (media_sid, seq, data) VALUES ($1, $2, $3)", m.sid, seq, chunk
        )


async def find_media_txn(txn: Txn, service_sid: str, sid: str) -> Media | None:
    row = await txn.fetchone(
        f"SELECT {_COLUMNS} FROM media WHERE sid = $1 AND service_sid = $2", sid, service_sid
    )
    return None if row is None else _media(row)


async def media_content_txn(txn: Txn, sid: str) -> list[bytes]:
    """The upload's bytes, chunk by chunk (never joined: the caller streams them)."""
    rows = await txn.fetchall(
        "SELECT data FROM media_chunks WHERE media_sid = $1 ORDER BY seq", sid
    )
    return [bytes(row["data"]) for row in rows]


async def usage_txn(txn: Txn, service_sid: str, author: str, since_ms: int) -> tuple[int, int]:
    """What one user holds: bytes stored (sent or not), and uploads made since ``since_ms``."""
    row = await txn.fetchone(
        "SELECT COALESCE(SUM(size), 0) AS stored, "
        "COALESCE(SUM(CASE WHEN date_created >= $3 THEN 1 ELSE 0 END), 0) AS recent "
        "FROM media WHERE service_sid = $1 AND author = $2",
        service_sid,
        author,
        since_ms,
    )
    assert row is not None  # an aggregate always answers one row
    return int(row["stored"]), int(row["recent"])


Owner = Literal["service_sid", "channel_sid", "message_sid"]


async def delete_media_of_txn(txn: Txn, owner: Owner, sid: str) -> None:
    """Delete the media (bytes first) of a service, a channel or a message being deleted."""
    await txn.execute(
        f"DELETE FROM media_chunks WHERE media_sid IN (SELECT sid FROM media WHERE {owner} = $1)",
        sid,
    )
    await txn.execute(f"DELETE FROM media WHERE {owner} = $1", sid)


async def delete_unsent_txn(txn: Txn, before_ms: int) -> int:
    """Delete uploads no message carries that were made before ``before_ms``; how many."""
    unsent = "SELECT sid FROM media WHERE message_sid IS NULL AND date_created < $1"
    await txn.execute(f"DELETE FROM media_chunks WHERE media_sid IN ({unsent})", before_ms)
    return await txn.execute(
        "DELETE FROM media WHERE message_sid IS NULL AND date_created < $1", before_ms
    )


async def attach_media_txn(txn: Txn, sid: str, channel_sid: str, message_sid: str) -> bool:
    """Mark the media as carried by a message; False if a message already carries it."""
    changed = await txn.execute(
        "UPDATE media SET channel_sid = $2, message_sid = $3 "
        "WHERE sid = $1 AND message_sid IS NULL",
        sid,
        channel_sid,
        message_sid,
    )
    return changed > 0

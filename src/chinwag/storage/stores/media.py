"""Media uploads and their bytes (read apart from the metadata: a listing never loads them)."""

from __future__ import annotations

from chinwag.domain.models import Media
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


async def insert_media_txn(txn: Txn, m: Media, content: bytes) -> None:
    await txn.execute(
        f"INSERT INTO media ({_COLUMNS}, content) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
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
        content,
    )


async def find_media_txn(txn: Txn, service_sid: str, sid: str) -> Media | None:
    row = await txn.fetchone(
        f"SELECT {_COLUMNS} FROM media WHERE sid = $1 AND service_sid = $2", sid, service_sid
    )
    return None if row is None else _media(row)


async def media_content_txn(txn: Txn, sid: str) -> bytes:
    row = await txn.fetchone("SELECT content FROM media WHERE sid = $1", sid)
    return b"" if row is None else bytes(row["content"])


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

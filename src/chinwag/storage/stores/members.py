"""Channel members."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from chinwag.model.records import Member, Page, PageRequest
from chinwag.storage.database import Txn
from chinwag.storage.engines import Row
from chinwag.storage.paging import fetch_page_txn
from chinwag.storage.placeholders import placeholders

_COLUMNS = (
    "id, sid, account_sid, service_sid, channel_sid, identity, role_sid, "
    "last_consumed_message_index, last_consumption_timestamp, date_created, date_updated, "
    "notification_level, attributes"
)


def _member(row: Row) -> Member:
    return Member(
        sid=row["sid"],
        account_sid=row["account_sid"],
        service_sid=row["service_sid"],
        channel_sid=row["channel_sid"],
        identity=row["identity"],
        role_sid=row["role_sid"],
        last_consumed_message_index=row["last_consumed_message_index"],
        last_consumption_timestamp=row["last_consumption_timestamp"],
        date_created=row["date_created"],
        date_updated=row["date_updated"],
        notification_level="muted" if row["notification_level"] == "muted" else "default",
        attributes=row["attributes"],
    )


def identity_filter(identities: Sequence[str], first: int) -> str:
    """`` AND identity IN ($first, …)`` for a non-empty identity filter, else nothing."""
    if not identities:
        return ""
    return f" AND identity IN ({placeholders(first, len(identities))})"


async def find_member_txn(
    txn: Txn,
    channel_sid: str,
    by: Literal["sid", "identity"],
    value: str,
    *,
    for_update: bool = False,
) -> Member | None:
    lock = txn.engine.for_update if for_update else ""
    row = await txn.fetchone(
        f"SELECT {_COLUMNS} FROM members WHERE channel_sid = $1 AND {by} = $2 {lock}",
        channel_sid,
        value,
    )
    return None if row is None else _member(row)


async def list_members_txn(
    txn: Txn, channel_sid: str, identities: Sequence[str], req: PageRequest
) -> Page[Member]:
    return await fetch_page_txn(
        txn,
        f"SELECT {_COLUMNS} FROM members WHERE channel_sid = $1{identity_filter(identities, 2)}",
        (channel_sid, *identities),
        "id",
        req,
        _member,
    )


async def member_identities_txn(txn: Txn, channel_sid: str) -> list[str]:
    """Every member's identity (typing fans out to them)."""
    rows = await txn.fetchall("SELECT identity FROM members WHERE channel_sid = $1", channel_sid)
    return [row["identity"] for row in rows]


async def insert_member_txn(txn: Txn, m: Member) -> None:
    await txn.execute(
        "INSERT INTO members (sid, account_sid, service_sid, channel_sid, identity, role_sid, "
        "last_consumed_message_index, last_consumption_timestamp, date_created, date_updated, "
        "notification_level, attributes) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        m.sid,
        m.account_sid,
        m.service_sid,
        m.channel_sid,
        m.identity,
        m.role_sid,
        m.last_consumed_message_index,
        m.last_consumption_timestamp,
        m.date_created,
        m.date_updated,
        m.notification_level,
        m.attributes,
    )


async def update_member_txn(txn: Txn, m: Member) -> None:
    await txn.execute(
        "UPDATE members SET role_sid = $2, last_consumed_message_index = $3, "
        "last_consumption_timestamp = $4, date_updated = $5, notification_level = $6, "
        "attributes = $7, date_created = $8 WHERE sid = $1",
        m.sid,
        m.role_sid,
        m.last_consumed_message_index,
        m.last_consumption_timestamp,
        m.date_updated,
        m.notification_level,
        m.attributes,
        m.date_created,
    )


async def delete_member_txn(txn: Txn, sid: str) -> None:
    await txn.execute("DELETE FROM members WHERE sid = $1", sid)


async def participation_txn(txn: Txn, channel_sid: str, identity: str) -> tuple[bool, bool]:
    """``(is a member, is invited)`` of ``identity`` in the channel."""
    row = await txn.fetchone(
        "SELECT EXISTS (SELECT 1 FROM members WHERE channel_sid = $1 AND identity = $2), "
        "EXISTS (SELECT 1 FROM invites WHERE channel_sid = $1 AND identity = $2)",
        channel_sid,
        identity,
    )
    assert row is not None
    return bool(row[0]), bool(row[1])


async def channel_audience_txn(txn: Txn, channel_sid: str) -> tuple[list[str], list[str]]:
    """Identities of the channel's members and of its invitees."""
    members = await txn.fetchall("SELECT identity FROM members WHERE channel_sid = $1", channel_sid)
    invites = await txn.fetchall("SELECT identity FROM invites WHERE channel_sid = $1", channel_sid)
    return [r["identity"] for r in members], [r["identity"] for r in invites]

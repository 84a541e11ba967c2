"""Pending channel invites."""

from __future__ import annotations

from collections.abc import Sequence

from chinwag.model.records import Invite, Page, PageRequest
from chinwag.storage.database import Txn
from chinwag.storage.engines import Row
from chinwag.storage.paging import fetch_page_txn
from chinwag.storage.stores.members import identity_filter

_COLUMNS = (
    "id, sid, account_sid, service_sid, channel_sid, identity, role_sid, created_by, "
    "date_created, date_updated"
)


def _invite(row: Row) -> Invite:
    return Invite(
        sid=row["sid"],
        account_sid=row["account_sid"],
        service_sid=row["service_sid"],
        channel_sid=row["channel_sid"],
        identity=row["identity"],
        role_sid=row["role_sid"],
        created_by=row["created_by"],
        date_created=row["date_created"],
        date_updated=row["date_updated"],
    )


async def find_invite_txn(txn: Txn, channel_sid: str, sid: str) -> Invite | None:
    row = await txn.fetchone(
        f"SELECT {_COLUMNS} FROM invites WHERE channel_sid = $1 AND sid = $2", channel_sid, sid
    )
    return None if row is None else _invite(row)


async def find_invite_for_txn(txn: Txn, channel_sid: str, identity: str) -> Invite | None:
    row = await txn.fetchone(
        f"SELECT {_COLUMNS} FROM invites WHERE channel_sid = $1 AND identity = $2",
        channel_sid,
        identity,
    )
    return None if row is None else _invite(row)


async def list_invites_txn(
    txn: Txn, channel_sid: str, identities: Sequence[str], req: PageRequest
) -> Page[Invite]:
    return await fetch_page_txn(
        txn,
        f"SELECT {_COLUMNS} FROM invites WHERE channel_sid = $1{identity_filter(identities, 2)}",
        (channel_sid, *identities),
        "id",
        req,
        _invite,
    )


async def insert_invite_txn(txn: Txn, i: Invite) -> None:
    await txn.execute(
        "INSERT INTO invites (sid, account_sid, service_sid, channel_sid, identity, role_sid, "
        "created_by, date_created, date_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        i.sid,
        i.account_sid,
        i.service_sid,
        i.channel_sid,
        i.identity,
        i.role_sid,
        i.created_by,
        i.date_created,
        i.date_updated,
    )


async def delete_invite_txn(txn: Txn, sid: str) -> None:
    await txn.execute("DELETE FROM invites WHERE sid = $1", sid)

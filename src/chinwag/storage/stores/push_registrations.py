"""Push registrations of chat users, one per (service, identity, channel type, token)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from chinwag.model.records import Page, PageRequest, PushRegistration
from chinwag.storage.database import Txn
from chinwag.storage.engines import Row
from chinwag.storage.paging import fetch_page_txn
from chinwag.storage.placeholders import placeholders

_COLUMNS = (
    "sid, account_sid, service_sid, identity, channel_type, address, endpoint, message_types, "
    "date_created, date_updated, credential_sid"
)


def _registration(row: Row) -> PushRegistration:
    return PushRegistration(
        sid=row["sid"],
        account_sid=row["account_sid"],
        service_sid=row["service_sid"],
        identity=row["identity"],
        channel_type=row["channel_type"],
        address=row["address"],
        endpoint=row["endpoint"],
        message_types=tuple(orjson.loads(row["message_types"])),
        date_created=row["date_created"],
        date_updated=row["date_updated"],
        credential_sid=row["credential_sid"],
    )


async def replace_registration_txn(txn: Txn, r: PushRegistration) -> None:
    """Store ``r``, replacing the user's registration of the same channel type and token."""
    await txn.execute(
        "DELETE FROM push_registrations WHERE service_sid = $1 AND identity = $2 "
        "AND channel_type = $3 AND address = $4",
        r.service_sid,
        r.identity,
        r.channel_type,
        r.address,
    )
    await txn.execute(
        f"INSERT INTO push_registrations ({_COLUMNS}) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        r.sid,
        r.account_sid,
        r.service_sid,
        r.identity,
        r.channel_type,
        r.address,
        r.endpoint,
        orjson.dumps(list(r.message_types)).decode(),
        r.date_created,
        r.date_updated,
        r.credential_sid,
    )


async def trim_registrations_txn(txn: Txn, service_sid: str, identity: str, keep: int) -> int:
    """Delete the user's oldest registrations beyond the newest ``keep``; how many went."""
    rows = await txn.fetchall(
        "SELECT id FROM push_registrations WHERE service_sid = $1 AND identity = $2 "
        "ORDER BY id DESC",
        service_sid,
        identity,
    )
    stale = [row["id"] for row in rows[keep:]]
    for row_id in stale:
        await txn.execute("DELETE FROM push_registrations WHERE id = $1", row_id)
    return len(stale)


async def find_registration_txn(
    txn: Txn, account_sid: str, service_sid: str, sid: str
) -> PushRegistration | None:
    row = await txn.fetchone(
        f"SELECT {_COLUMNS} FROM push_registrations "
        "WHERE sid = $1 AND account_sid = $2 AND service_sid = $3",
        sid,
        account_sid,
        service_sid,
    )
    return None if row is None else _registration(row)


async def delete_registration_by_sid_txn(txn: Txn, service_sid: str, sid: str) -> str | None:
    """Delete registration ``sid`` of the service; the identity it belonged to, if it existed."""
    row = await txn.fetchone(
        "DELETE FROM push_registrations WHERE sid = $1 AND service_sid = $2 RETURNING identity",
        sid,
        service_sid,
    )
    return None if row is None else str(row["identity"])


async def delete_registration_txn(txn: Txn, service_sid: str, identity: str, sid: str) -> bool:
    """Delete the user's registration ``sid``; whether it existed."""
    changed = await txn.execute(
        "DELETE FROM push_registrations WHERE sid = $1 AND service_sid = $2 AND identity = $3",
        sid,
        service_sid,
        identity,
    )
    return changed > 0


async def list_registrations_txn(
    txn: Txn,
    account_sid: str,
    service_sid: str | None,
    identity: str | None = None,
) -> list[PushRegistration]:
    """The account's registrations, oldest first: of one service, and one user, if named."""
    if identity is not None:
        rows = await txn.fetchall(
            f"SELECT {_COLUMNS} FROM push_registrations "
            "WHERE account_sid = $1 AND service_sid = $2 AND identity = $3 ORDER BY id",
            account_sid,
            service_sid,
            identity,
        )
    elif service_sid is None:
        rows = await txn.fetchall(
            f"SELECT {_COLUMNS} FROM push_registrations WHERE account_sid = $1 ORDER BY id",
            account_sid,
        )
    else:
        rows = await txn.fetchall(
            f"SELECT {_COLUMNS} FROM push_registrations "
            "WHERE account_sid = $1 AND service_sid = $2 ORDER BY id",
            account_sid,
            service_sid,
        )
    return [_registration(row) for row in rows]


async def has_registration_txn(txn: Txn, service_sid: str, identity: str) -> bool:
    row = await txn.fetchone(
        "SELECT 1 FROM push_registrations WHERE service_sid = $1 AND identity = $2 LIMIT 1",
        service_sid,
        identity,
    )
    return row is not None


async def page_registrations_txn(
    txn: Txn,
    service_sid: str,
    identities: Sequence[str],
    channel_types: Sequence[str],
    req: PageRequest,
) -> Page[PushRegistration]:
    """One page of the service's registrations, oldest first, of those identities and push
    channel types (none named: all)."""
    where, args = "service_sid = $1", [service_sid]
    for column, values in (("identity", identities), ("channel_type", channel_types)):
        if values:
            where += f" AND {column} IN ({placeholders(len(args) + 1, len(values))})"
            args.extend(values)
    return await fetch_page_txn(
        txn,
        f"SELECT id, {_COLUMNS} FROM push_registrations WHERE {where}",
        tuple(args),
        "id",
        req,
        _registration,
    )

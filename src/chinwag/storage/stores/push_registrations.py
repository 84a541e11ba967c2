"""Push registrations of chat users, one per (service, identity, channel type, token)."""

from __future__ import annotations

import orjson

from chinwag.model.records import PushRegistration
from chinwag.storage.database import Txn
from chinwag.storage.engines import Row

_COLUMNS = (
    "sid, account_sid, service_sid, identity, channel_type, address, endpoint, message_types, "
    "date_created, date_updated"
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
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
    )


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
    txn: Txn, account_sid: str, service_sid: str | None
) -> list[PushRegistration]:
    if service_sid is None:
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

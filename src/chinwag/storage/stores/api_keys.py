"""API keys of an account. The secret is stored as is: HS256 verification needs it."""

from __future__ import annotations

from chinwag.model.records import ApiKey
from chinwag.storage.database import Txn
from chinwag.storage.engines import Row

_COLUMNS = "sid, account_sid, friendly_name, secret, date_created, date_updated"


def _api_key(row: Row) -> ApiKey:
    return ApiKey(
        sid=row["sid"],
        account_sid=row["account_sid"],
        friendly_name=row["friendly_name"],
        secret=row["secret"],
        date_created=row["date_created"],
        date_updated=row["date_updated"],
    )


async def find_api_key_txn(txn: Txn, account_sid: str, sid: str) -> ApiKey | None:
    """The key, if it exists and belongs to ``account_sid`` (one read on the unique SID)."""
    row = await txn.fetchone(
        f"SELECT {_COLUMNS} FROM api_keys WHERE sid = $1 AND account_sid = $2", sid, account_sid
    )
    return None if row is None else _api_key(row)


async def list_api_keys_txn(txn: Txn, account_sid: str) -> list[ApiKey]:
    rows = await txn.fetchall(
        f"SELECT {_COLUMNS} FROM api_keys WHERE account_sid = $1 ORDER BY id", account_sid
    )
    return [_api_key(row) for row in rows]


_INSERT = f"INSERT INTO api_keys ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"


def _values(key: ApiKey) -> tuple[object, ...]:
    return (
        key.sid,
        key.account_sid,
        key.friendly_name,
        key.secret,
        key.date_created,
        key.date_updated,
    )


async def insert_api_key_txn(txn: Txn, key: ApiKey) -> None:
    await txn.execute(_INSERT, *_values(key))


async def upsert_api_key_txn(txn: Txn, key: ApiKey) -> None:
    """Insert the key, or give an existing row with its SID this account and secret.

    One statement, so processes starting at once cannot race each other into a 500.
    """
    await txn.execute(
        f"{_INSERT} ON CONFLICT (sid) DO UPDATE SET account_sid = excluded.account_sid, "
        "secret = excluded.secret, date_updated = excluded.date_updated "
        "WHERE api_keys.secret <> excluded.secret OR api_keys.account_sid <> excluded.account_sid",
        *_values(key),
    )


async def delete_api_key_txn(txn: Txn, account_sid: str, sid: str) -> bool:
    """Delete the key; whether it existed."""
    changed = await txn.execute(
        "DELETE FROM api_keys WHERE sid = $1 AND account_sid = $2", sid, account_sid
    )
    return changed > 0

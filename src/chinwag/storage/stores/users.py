"""Users of a Service, and the cascade that removes a user's memberships and invites."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from chinwag.model.records import Page, PageRequest, User
from chinwag.storage.database import Txn
from chinwag.storage.engines import Row
from chinwag.storage.paging import fetch_page_txn
from chinwag.storage.placeholders import placeholders

_COLUMNS = (
    "id, sid, account_sid, service_sid, identity, friendly_name, role_sid, attributes, "
    "joined_channels_count, date_created, date_updated"
)


def _user(row: Row) -> User:
    return User(
        sid=row["sid"],
        account_sid=row["account_sid"],
        service_sid=row["service_sid"],
        identity=row["identity"],
        friendly_name=row["friendly_name"],
        role_sid=row["role_sid"],
        attributes=row["attributes"],
        joined_channels_count=row["joined_channels_count"],
        date_created=row["date_created"],
        date_updated=row["date_updated"],
    )


async def find_user_txn(
    txn: Txn,
    service_sid: str,
    by: Literal["sid", "identity"],
    value: str,
    *,
    for_update: bool = False,
) -> User | None:
    lock = txn.engine.for_update if for_update else ""
    row = await txn.fetchone(
        f"SELECT {_COLUMNS} FROM users WHERE service_sid = $1 AND {by} = $2 {lock}",
        service_sid,
        value,
    )
    return None if row is None else _user(row)


async def find_users_txn(txn: Txn, service_sid: str, identities: Sequence[str]) -> dict[str, User]:
    """The service's users among ``identities``, by identity, in one query (a page's users)."""
    if not identities:
        return {}
    marks = placeholders(2, len(identities))
    rows = await txn.fetchall(
        f"SELECT {_COLUMNS} FROM users WHERE service_sid = $1 AND identity IN ({marks})",
        service_sid,
        *identities,
    )
    return {row["identity"]: _user(row) for row in rows}


async def list_users_txn(txn: Txn, service_sid: str, req: PageRequest) -> Page[User]:
    return await fetch_page_txn(
        txn,
        f"SELECT {_COLUMNS} FROM users WHERE service_sid = $1",
        (service_sid,),
        "id",
        req,
        _user,
    )


async def insert_user_txn(txn: Txn, u: User) -> bool:
    """Insert unless the identity is taken (then False): a concurrent insert of the same
    identity waits for the other transaction instead of failing it."""
    return bool(
        await txn.execute(
            "INSERT INTO users (sid, account_sid, service_sid, identity, friendly_name, role_sid, "
            "attributes, joined_channels_count, date_created, date_updated) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
            "ON CONFLICT (service_sid, identity) DO NOTHING",
            u.sid,
            u.account_sid,
            u.service_sid,
            u.identity,
            u.friendly_name,
            u.role_sid,
            u.attributes,
            u.joined_channels_count,
            u.date_created,
            u.date_updated,
        )
    )


async def update_user_txn(txn: Txn, u: User) -> None:
    await txn.execute(
        "UPDATE users SET friendly_name = $2, role_sid = $3, attributes = $4, date_updated = $5 "
        "WHERE sid = $1",
        u.sid,
        u.friendly_name,
        u.role_sid,
        u.attributes,
        u.date_updated,
    )


async def add_joined_channels_txn(txn: Txn, service_sid: str, identity: str, delta: int) -> None:
    await txn.execute(
        "UPDATE users SET joined_channels_count = joined_channels_count + $3 "
        "WHERE service_sid = $1 AND identity = $2",
        service_sid,
        identity,
        delta,
    )


async def delete_user_txn(txn: Txn, u: User) -> None:
    """Delete a user with its memberships (fixing each channel's count), pending invites and
    push registrations.

    Messages the user wrote stay, with ``from`` still naming the identity.
    """
    await txn.execute(
        "UPDATE channels SET members_count = members_count - 1 WHERE sid IN "
        "(SELECT channel_sid FROM members WHERE service_sid = $1 AND identity = $2)",
        u.service_sid,
        u.identity,
    )
    for table in ("members", "invites", "push_registrations"):
        await txn.execute(
            f"DELETE FROM {table} WHERE service_sid = $1 AND identity = $2",
            u.service_sid,
            u.identity,
        )
    await txn.execute("DELETE FROM users WHERE sid = $1", u.sid)

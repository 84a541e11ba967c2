"""Roles of a Service; ``permissions`` is a JSON array kept in canonical order."""

from __future__ import annotations

import orjson

from chinwag.model.records import Page, PageRequest, Role
from chinwag.storage.database import Txn
from chinwag.storage.engines import Row
from chinwag.storage.paging import fetch_page_txn

_COLUMNS = (
    "id, sid, account_sid, service_sid, friendly_name, type, permissions, date_created, "
    "date_updated"
)


def _role(row: Row) -> Role:
    return Role(
        sid=row["sid"],
        account_sid=row["account_sid"],
        service_sid=row["service_sid"],
        friendly_name=row["friendly_name"],
        type=row["type"],
        permissions=tuple(orjson.loads(row["permissions"])),
        date_created=row["date_created"],
        date_updated=row["date_updated"],
    )


async def find_role_txn(txn: Txn, service_sid: str, sid: str) -> Role | None:
    row = await txn.fetchone(
        f"SELECT {_COLUMNS} FROM roles WHERE sid = $1 AND service_sid = $2",
        sid,
        service_sid,
    )
    return None if row is None else _role(row)


async def list_roles_txn(txn: Txn, service_sid: str, req: PageRequest) -> Page[Role]:
    return await fetch_page_txn(
        txn,
        f"SELECT {_COLUMNS} FROM roles WHERE service_sid = $1",
        (service_sid,),
        "id",
        req,
        _role,
    )


async def insert_role_txn(txn: Txn, r: Role) -> None:
    await txn.execute(
        "INSERT INTO roles (sid, account_sid, service_sid, friendly_name, type, permissions, "
        "date_created, date_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        r.sid,
        r.account_sid,
        r.service_sid,
        r.friendly_name,
        r.type,
        orjson.dumps(r.permissions).decode(),
        r.date_created,
        r.date_updated,
    )


async def update_role_txn(txn: Txn, r: Role) -> None:
    await txn.execute(
        "UPDATE roles SET permissions = $2, date_updated = $3 WHERE sid = $1",
        r.sid,
        orjson.dumps(r.permissions).decode(),
        r.date_updated,
    )


async def delete_role_txn(txn: Txn, sid: str) -> None:
    await txn.execute("DELETE FROM roles WHERE sid = $1", sid)


async def find_user_permissions_txn(txn: Txn, service_sid: str, identity: str) -> tuple[str, ...]:
    """The permissions of a user's service role, in one query.

    An identity with no User row yet holds the service's default service role (the role its
    User gets when it is created on first use); a dangling role SID holds nothing.
    """
    row = await txn.fetchone(
        "SELECT r.permissions FROM roles r WHERE r.service_sid = $1 AND r.sid = COALESCE("
        "(SELECT u.role_sid FROM users u WHERE u.service_sid = $1 AND u.identity = $2), "
        "(SELECT s.default_service_role_sid FROM services s WHERE s.sid = $1))",
        service_sid,
        identity,
    )
    return () if row is None else tuple(orjson.loads(row["permissions"]))


async def find_channel_standing_txn(
    txn: Txn, channel_sid: str, identity: str
) -> tuple[tuple[str, ...] | None, bool]:
    """A user's channel-role permissions (None when not a member) and whether they hold an
    invite to the channel, in one query."""
    row = await txn.fetchone(
        "SELECT m.sid AS member_sid, r.permissions, EXISTS("
        "SELECT 1 FROM invites i WHERE i.channel_sid = $1 AND i.identity = $2) AS invited "
        "FROM (SELECT 1 AS one) AS o "
        "LEFT JOIN members m ON m.channel_sid = $1 AND m.identity = $2 "
        "LEFT JOIN roles r ON r.sid = m.role_sid",
        channel_sid,
        identity,
    )
    assert row is not None  # one row by construction
    permissions: tuple[str, ...] | None = None
    if row["member_sid"] is not None:
        raw = row["permissions"]
        permissions = () if raw is None else tuple(orjson.loads(raw))
    return permissions, bool(row["invited"])

"""Push credentials (account level). Secret columns are stored for push delivery, never rendered."""

from __future__ import annotations

from chinwag.model.records import Credential, Page, PageRequest
from chinwag.storage.database import Txn
from chinwag.storage.engines import Row
from chinwag.storage.paging import fetch_page_txn

_COLUMNS = (
    "id, sid, account_sid, friendly_name, type, sandbox, certificate, private_key, api_key, "
    "secret, date_created, date_updated"
)


def _credential(row: Row) -> Credential:
    sandbox = row["sandbox"]
    return Credential(
        sid=row["sid"],
        account_sid=row["account_sid"],
        friendly_name=row["friendly_name"],
        type=row["type"],
        sandbox=None if sandbox is None else bool(sandbox),
        certificate=row["certificate"],
        private_key=row["private_key"],
        api_key=row["api_key"],
        secret=row["secret"],
        date_created=row["date_created"],
        date_updated=row["date_updated"],
    )


async def find_credential_txn(txn: Txn, account_sid: str, sid: str) -> Credential | None:
    row = await txn.fetchone(
        f"SELECT {_COLUMNS} FROM credentials WHERE sid = $1 AND account_sid = $2 "
        f"{txn.engine.for_update}",
        sid,
        account_sid,
    )
    return None if row is None else _credential(row)


async def list_credentials_txn(txn: Txn, account_sid: str, req: PageRequest) -> Page[Credential]:
    return await fetch_page_txn(
        txn,
        f"SELECT {_COLUMNS} FROM credentials WHERE account_sid = $1",
        (account_sid,),
        "id",
        req,
        _credential,
    )


async def insert_credential_txn(txn: Txn, c: Credential) -> None:
    await txn.execute(
        "INSERT INTO credentials (sid, account_sid, friendly_name, type, sandbox, certificate, "
        "private_key, api_key, secret, date_created, date_updated) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        c.sid,
        c.account_sid,
        c.friendly_name,
        c.type,
        c.sandbox,
        c.certificate,
        c.private_key,
        c.api_key,
        c.secret,
        c.date_created,
        c.date_updated,
    )


async def update_credential_txn(txn: Txn, c: Credential) -> None:
    await txn.execute(
        "UPDATE credentials SET friendly_name = $2, sandbox = $3, certificate = $4, "
        "private_key = $5, api_key = $6, secret = $7, date_updated = $8 WHERE sid = $1",
        c.sid,
        c.friendly_name,
        c.sandbox,
        c.certificate,
        c.private_key,
        c.api_key,
        c.secret,
        c.date_updated,
    )


async def delete_credential_txn(txn: Txn, sid: str) -> None:
    await txn.execute("DELETE FROM credentials WHERE sid = $1", sid)

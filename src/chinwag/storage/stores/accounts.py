"""The account that may call the API (one per server today; every row carries its SID)."""

from __future__ import annotations

from chinwag.model.records import Account
from chinwag.storage.database import Txn


async def find_first_account_txn(txn: Txn) -> Account | None:
    row = await txn.fetchone("SELECT sid, auth_token FROM accounts ORDER BY id LIMIT 1")
    return None if row is None else Account(row["sid"], row["auth_token"])


async def insert_account_txn(txn: Txn, account: Account, now: int) -> None:
    await txn.execute(
        "INSERT INTO accounts (sid, auth_token, date_created) VALUES ($1, $2, $3)",
        account.sid,
        account.auth_token,
        now,
    )


async def list_account_sids_txn(txn: Txn) -> list[str]:
    """Every account SID the database holds: the stored account and owners of top-level data.

    Services and credentials are the roots every other row hangs from, so these three tables
    name every account with data (both are indexed by account).
    """
    rows = await txn.fetchall(
        "SELECT sid AS account_sid FROM accounts"
        " UNION SELECT DISTINCT account_sid FROM services"
        " UNION SELECT DISTINCT account_sid FROM credentials"
        " ORDER BY account_sid"
    )
    return [row["account_sid"] for row in rows]

"""Applied chat mutations (``X-Twilio-Mutation-Id``), so a retried command is not applied twice.

:func:`record_txn` runs first in the command's first write transaction (through
:data:`~chinwag.storage.database.first_write`): the change and the record commit or roll back
together, for every process sharing the database. The reply is stored afterwards; a retry that
finds the row answers with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from chinwag.storage.database import Txn

#: how long an applied mutation id is remembered: an SDK retries within seconds
KEEP_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class Mutation:
    """A command's id, as the identity that sent it named it, and when it arrived."""

    account_sid: str
    identity: str
    mutation_id: str
    now_ms: int


@dataclass(frozen=True, slots=True)
class Applied:
    """A recorded mutation; ``status`` and ``body`` are None until its reply is stored."""

    status: int | None
    body: bytes | None
    #: when the first attempt recorded it (ms)
    date_created: int


async def record_txn(txn: Txn, mutation: Mutation) -> None:
    """Record the id in ``txn`` (a duplicate breaks the primary key) and forget expired ids."""
    await txn.execute(
        "DELETE FROM chat_mutations WHERE date_created < $1", mutation.now_ms - KEEP_MS
    )
    await txn.execute(
        "INSERT INTO chat_mutations (account_sid, identity, mutation_id, date_created) "
        "VALUES ($1, $2, $3, $4)",
        mutation.account_sid,
        mutation.identity,
        mutation.mutation_id,
        mutation.now_ms,
    )


async def find_txn(txn: Txn, mutation: Mutation) -> Applied | None:
    row = await txn.fetchone(
        "SELECT status, body, date_created FROM chat_mutations "
        "WHERE account_sid = $1 AND identity = $2 AND mutation_id = $3",
        mutation.account_sid,
        mutation.identity,
        mutation.mutation_id,
    )
    if row is None:
        return None
    body = row["body"]
    return Applied(row["status"], None if body is None else body.encode(), row["date_created"])


async def store_reply_txn(txn: Txn, mutation: Mutation, status: int, body: bytes) -> None:
    await txn.execute(
        "UPDATE chat_mutations SET status = $4, body = $5 "
        "WHERE account_sid = $1 AND identity = $2 AND mutation_id = $3",
        mutation.account_sid,
        mutation.identity,
        mutation.mutation_id,
        status,
        body.decode(),
    )

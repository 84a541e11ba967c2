"""Applied chat commands (``X-Twilio-Mutation-Id``), so a retried command is not applied twice.

A command's id is recorded, with its reply, in the transaction of its change (see
``chinwag.domain.once``): both commit or roll back together, for every process sharing the
database, so an id is never found without its reply. Ids are scoped by account, service and
identity: the same id sent by the same identity in another service is another command.
"""

from __future__ import annotations

from dataclasses import dataclass

from chinwag.storage.database import Txn

#: how long an applied mutation id is remembered: an SDK retries within seconds
KEEP_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class MutationKey:
    """A command's id, as the identity that sent it in its service named it."""

    account_sid: str
    service_sid: str
    identity: str
    mutation_id: str


@dataclass(frozen=True, slots=True)
class Reply:
    """What the first attempt answered: its status and body."""

    status: int
    body: bytes


async def record_txn(txn: Txn, key: MutationKey, now_ms: int, reply: Reply) -> None:
    """Record ``key`` and its reply in ``txn`` (a duplicate breaks the primary key) and forget
    expired ids."""
    await txn.execute("DELETE FROM chat_mutations WHERE date_created < $1", now_ms - KEEP_MS)
    await txn.execute(
        "INSERT INTO chat_mutations "
        "(account_sid, service_sid, identity, mutation_id, date_created, status, body) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        key.account_sid,
        key.service_sid,
        key.identity,
        key.mutation_id,
        now_ms,
        reply.status,
        reply.body.decode(),
    )


async def find_txn(txn: Txn, key: MutationKey) -> Reply | None:
    row = await txn.fetchone(
        "SELECT status, body FROM chat_mutations "
        "WHERE account_sid = $1 AND service_sid = $2 AND identity = $3 AND mutation_id = $4",
        key.account_sid,
        key.service_sid,
        key.identity,
        key.mutation_id,
    )
    return None if row is None else Reply(row["status"], row["body"].encode())

"""The webhook outbox and delivery log (table ``webhook_deliveries``).

Deliveries are inserted in the transaction of the change they report. The dispatcher claims
due rows with a lease (``locked_until``): a claim is one UPDATE that, on PostgreSQL, skips rows
another process is claiming at the same moment (``FOR UPDATE SKIP LOCKED``), so several server
processes share the work and each delivery is attempted by one of them at a time. A process
that dies mid-delivery leaves a lease that simply expires; another process retries the row.

Only the oldest pending row of an ``ordering_key`` (target URL + channel) is ever claimable,
so deliveries for one channel arrive in commit order, retries included.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from chinwag.model.records import Delivery, DeliveryState, NewDelivery
from chinwag.storage.database import Txn
from chinwag.storage.engines import Row

_COLUMNS = (
    "id, account_sid, service_sid, event_type, ordering_key, url, method, params, state, "
    "attempts, next_attempt_at, last_status, last_error, date_created, date_updated, retries, "
    "webhook_sid"
)


def _delivery(row: Row) -> Delivery:
    return Delivery(
        id=row["id"],
        account_sid=row["account_sid"],
        service_sid=row["service_sid"],
        event_type=row["event_type"],
        ordering_key=row["ordering_key"],
        url=row["url"],
        method=row["method"],
        params=orjson.loads(row["params"]),
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_status=row["last_status"],
        last_error=row["last_error"],
        date_created=row["date_created"],
        date_updated=row["date_updated"],
        retries=row["retries"],
        webhook_sid=row["webhook_sid"],
    )


async def lock_channel_txn(txn: Txn, channel_sid: str) -> None:
    """Hold the channel row until commit, so outbox ids of one channel follow commit order.

    Without it two transactions on one channel (say, editing two messages) could take ids in
    one order and commit in the other, and the dispatcher could send the later change first.
    """
    if txn.engine.for_update:
        await txn.fetchone(
            f"SELECT 1 FROM channels WHERE sid = $1 {txn.engine.for_update}", channel_sid
        )


async def insert_deliveries_txn(txn: Txn, deliveries: Sequence[NewDelivery], now: int) -> None:
    for d in deliveries:
        await txn.execute(
            "INSERT INTO webhook_deliveries (account_sid, service_sid, event_type, "
            "ordering_key, url, method, params, state, attempts, next_attempt_at, "
            "date_created, date_updated, retries, webhook_sid) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8, $8, $9, $10)",
            d.account_sid,
            d.service_sid,
            d.event_type,
            d.ordering_key,
            d.url,
            d.method,
            orjson.dumps(d.params).decode(),
            now,
            d.retries,
            d.webhook_sid,
        )


async def claim_due_txn(txn: Txn, now: int, lease_until: int, limit: int) -> list[Delivery]:
    """Lease up to ``limit`` due deliveries, each the oldest pending one of its ordering key."""
    skip_locked = f"{txn.engine.for_update} SKIP LOCKED" if txn.engine.for_update else ""
    rows = await txn.fetchall(
        "UPDATE webhook_deliveries SET locked_until = $2 WHERE id IN ("
        " SELECT d.id FROM webhook_deliveries d"
        " WHERE d.state = 'pending' AND d.next_attempt_at <= $1"
        " AND (d.locked_until IS NULL OR d.locked_until <= $1)"
        " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.state = 'pending'"
        "  AND p.ordering_key = d.ordering_key AND p.id < d.id)"
        f" ORDER BY d.id LIMIT $3 {skip_locked}"
        f") RETURNING {_COLUMNS}",
        now,
        lease_until,
        limit,
    )
    return sorted((_delivery(r) for r in rows), key=lambda d: d.id)


async def record_attempt_txn(
    txn: Txn,
    delivery_id: int,
    state: DeliveryState,
    attempts: int,
    next_attempt_at: int,
    status: int | None,
    error: str | None,
    now: int,
) -> None:
    """Store the outcome of an attempt and release the lease."""
    await txn.execute(
        "UPDATE webhook_deliveries SET state = $2, attempts = $3, next_attempt_at = $4, "
        "last_status = $5, last_error = $6, locked_until = NULL, date_updated = $7 "
        "WHERE id = $1",
        delivery_id,
        state,
        attempts,
        next_attempt_at,
        status,
        error,
        now,
    )


async def release_txn(txn: Txn, delivery_ids: Sequence[int]) -> None:
    """Give back leases of deliveries not attempted (a process shutting down)."""
    for delivery_id in delivery_ids:
        await txn.execute(
            "UPDATE webhook_deliveries SET locked_until = NULL WHERE id = $1 AND state = 'pending'",
            delivery_id,
        )


async def purge_finished_txn(txn: Txn, before: int) -> int:
    """Forget delivered and failed deliveries last touched before ``before``."""
    return await txn.execute(
        "DELETE FROM webhook_deliveries WHERE date_updated < $1 AND state <> 'pending'", before
    )


async def count_pending_txn(txn: Txn) -> int:
    row = await txn.fetchone("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE state = 'pending'")
    return 0 if row is None else int(row["n"])


async def next_due_txn(txn: Txn) -> int | None:
    """When the next delivery becomes claimable (ms): the earliest of the oldest pending rows
    of each ordering key, or its lease's end if it is leased; ``None`` if nothing is pending.
    """
    row = await txn.fetchone(
        "SELECT MIN(CASE WHEN d.locked_until > d.next_attempt_at THEN d.locked_until"
        " ELSE d.next_attempt_at END) AS due FROM webhook_deliveries d"
        " WHERE d.state = 'pending'"
        " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.state = 'pending'"
        "  AND p.ordering_key = d.ordering_key AND p.id < d.id)"
    )
    return None if row is None or row["due"] is None else int(row["due"])


async def list_deliveries_txn(txn: Txn, state: DeliveryState | None, limit: int) -> list[Delivery]:
    """The newest deliveries first, optionally of one state (``chinwag webhooks log``)."""
    if state is None:
        rows = await txn.fetchall(
            f"SELECT {_COLUMNS} FROM webhook_deliveries ORDER BY id DESC LIMIT $1", limit
        )
    else:
        rows = await txn.fetchall(
            f"SELECT {_COLUMNS} FROM webhook_deliveries WHERE state = $1 ORDER BY id DESC LIMIT $2",
            state,
            limit,
        )
    return [_delivery(r) for r in rows]


async def requeue_failed_txn(txn: Txn, delivery_id: int, now: int) -> DeliveryState | None:
    """Make a failed delivery pending again, due now; its attempt count goes on (a retry is
    one more attempt). Returns the state the row had (``None``: no such row), so a caller can
    tell "retried" from "was not failed"."""
    row = await txn.fetchone("SELECT state FROM webhook_deliveries WHERE id = $1", delivery_id)
    if row is None:
        return None
    if row["state"] == "failed":
        await txn.execute(
            "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $2, "
            "locked_until = NULL, date_updated = $2 WHERE id = $1",
            delivery_id,
            now,
        )
    state: DeliveryState = row["state"]
    return state

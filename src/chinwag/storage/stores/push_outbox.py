"""The push outbox (tables ``push_events`` and ``push_deliveries``), see docs/push.md.

A change that may notify writes a ``push_events`` row in its own transaction: one row, however
many members the channel has, so the request that caused it pays one insert. The dispatcher
claims events with a lease, and in one transaction writes a ``push_deliveries`` row per device
to notify and deletes the event: an event is expanded exactly once, even when several
processes claim at the same moment (PostgreSQL's ``SKIP LOCKED``; SQLite has one writer).

Deliveries are claimed with a lease too and their outcome recorded after the attempt: a
process that dies mid-send leaves a lease that expires, and that push is sent again (the one
case of a second send; the push id it carries is the same, see ``push/apns.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from chinwag.storage.database import Txn
from chinwag.storage.engines import Row

PushState = Literal["pending", "delivered", "failed", "pruned"]


@dataclass(frozen=True, slots=True)
class NewPushEvent:
    """A change that may notify. ``recipient`` None: the channel's members but ``actor``."""

    account_sid: str
    service_sid: str
    kind: str
    channel_sid: str
    actor: str
    recipient: str | None = None
    message_sid: str | None = None
    message_index: int | None = None
    body: str | None = None


@dataclass(frozen=True, slots=True)
class PushEvent(NewPushEvent):
    id: int = 0


@dataclass(frozen=True, slots=True)
class Target:
    """A registered device to notify."""

    registration_sid: str
    identity: str
    channel_type: str
    address: str
    message_types: tuple[str, ...]
    credential_sid: str | None


@dataclass(frozen=True, slots=True)
class NewPushDelivery:
    account_sid: str
    service_sid: str
    target: Target
    kind: str
    channel_sid: str
    message_sid: str | None
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PushDelivery:
    """A row of the push log: one push to one device and how it went."""

    id: int
    account_sid: str
    service_sid: str
    identity: str
    registration_sid: str
    channel_type: str
    address: str
    credential_sid: str | None
    kind: str
    channel_sid: str
    message_sid: str | None
    payload: dict[str, Any]
    state: PushState
    attempts: int
    next_attempt_at: int
    last_status: int | None
    last_error: str | None
    date_created: int
    date_updated: int


_EVENT_COLUMNS = (
    "id, account_sid, service_sid, kind, channel_sid, message_sid, message_index, body, actor, "
    "recipient"
)
_DELIVERY_COLUMNS = (
    "id, account_sid, service_sid, identity, registration_sid, channel_type, address, "
    "credential_sid, kind, channel_sid, message_sid, payload, state, attempts, next_attempt_at, "
    "last_status, last_error, date_created, date_updated"
)


def _event(row: Row) -> PushEvent:
    return PushEvent(
        id=row["id"],
        account_sid=row["account_sid"],
        service_sid=row["service_sid"],
        kind=row["kind"],
        channel_sid=row["channel_sid"],
        actor=row["actor"],
        recipient=row["recipient"],
        message_sid=row["message_sid"],
        message_index=row["message_index"],
        body=row["body"],
    )


def _delivery(row: Row) -> PushDelivery:
    return PushDelivery(
        id=row["id"],
        account_sid=row["account_sid"],
        service_sid=row["service_sid"],
        identity=row["identity"],
        registration_sid=row["registration_sid"],
        channel_type=row["channel_type"],
        address=row["address"],
        credential_sid=row["credential_sid"],
        kind=row["kind"],
        channel_sid=row["channel_sid"],
        message_sid=row["message_sid"],
        payload=orjson.loads(row["payload"]),
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_status=row["last_status"],
        last_error=row["last_error"],
        date_created=row["date_created"],
        date_updated=row["date_updated"],
    )


def _skip_locked(txn: Txn) -> str:
    return f"{txn.engine.for_update} SKIP LOCKED" if txn.engine.for_update else ""


async def insert_event_txn(txn: Txn, e: NewPushEvent, now: int) -> None:
    """Queue ``e`` in the transaction of the change it reports."""
    await txn.execute(
        "INSERT INTO push_events (account_sid, service_sid, kind, channel_sid, message_sid, "
        "message_index, body, actor, recipient, date_created) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        e.account_sid,
        e.service_sid,
        e.kind,
        e.channel_sid,
        e.message_sid,
        e.message_index,
        e.body,
        e.actor,
        e.recipient,
        now,
    )


async def claim_events_txn(txn: Txn, now: int, lease_until: int, limit: int) -> list[PushEvent]:
    """Lease up to ``limit`` events no other process holds, oldest first."""
    rows = await txn.fetchall(
        "UPDATE push_events SET locked_until = $2 WHERE id IN ("
        " SELECT id FROM push_events WHERE locked_until IS NULL OR locked_until <= $1"
        f" ORDER BY id LIMIT $3 {_skip_locked(txn)}"
        f") RETURNING {_EVENT_COLUMNS}",
        now,
        lease_until,
        limit,
    )
    return sorted((_event(r) for r in rows), key=lambda e: e.id)


async def delete_event_txn(txn: Txn, event_id: int) -> bool:
    """Delete an expanded event; False if it was gone (another process expanded it after its
    lease expired), in which case the caller's transaction must roll back."""
    return await txn.execute("DELETE FROM push_events WHERE id = $1", event_id) > 0


_TARGET_COLUMNS = "r.sid, r.identity, r.channel_type, r.address, r.message_types, r.credential_sid"


async def member_targets_txn(txn: Txn, channel_sid: str, except_identity: str) -> list[Target]:
    """The devices of the channel's members but ``except_identity``, muted members left out."""
    rows = await txn.fetchall(
        f"SELECT {_TARGET_COLUMNS} FROM members m JOIN push_registrations r "
        "ON r.service_sid = m.service_sid AND r.identity = m.identity "
        "WHERE m.channel_sid = $1 AND m.identity <> $2 "
        "AND (m.notification_level IS NULL OR m.notification_level <> 'muted') "
        "ORDER BY m.id, r.id",
        channel_sid,
        except_identity,
    )
    return [_target(r) for r in rows]


async def user_targets_txn(txn: Txn, service_sid: str, identity: str) -> list[Target]:
    """The devices of one user."""
    rows = await txn.fetchall(
        f"SELECT {_TARGET_COLUMNS} FROM push_registrations r "
        "WHERE r.service_sid = $1 AND r.identity = $2 ORDER BY r.id",
        service_sid,
        identity,
    )
    return [_target(r) for r in rows]


def _target(row: Row) -> Target:
    return Target(
        registration_sid=row["sid"],
        identity=row["identity"],
        channel_type=row["channel_type"],
        address=row["address"],
        message_types=tuple(orjson.loads(row["message_types"])),
        credential_sid=row["credential_sid"],
    )


async def insert_deliveries_txn(txn: Txn, deliveries: Sequence[NewPushDelivery], now: int) -> None:
    for d in deliveries:
        t = d.target
        await txn.execute(
            "INSERT INTO push_deliveries (account_sid, service_sid, identity, registration_sid, "
            "channel_type, address, credential_sid, kind, channel_sid, message_sid, payload, "
            "state, attempts, next_attempt_at, date_created, date_updated) VALUES "
            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', 0, $12, $12, $12)",
            d.account_sid,
            d.service_sid,
            t.identity,
            t.registration_sid,
            t.channel_type,
            t.address,
            t.credential_sid,
            d.kind,
            d.channel_sid,
            d.message_sid,
            orjson.dumps(d.payload).decode(),
            now,
        )


async def claim_deliveries_txn(
    txn: Txn, now: int, lease_until: int, limit: int
) -> list[PushDelivery]:
    """Lease up to ``limit`` due deliveries no other process holds, oldest first."""
    rows = await txn.fetchall(
        "UPDATE push_deliveries SET locked_until = $2 WHERE id IN ("
        " SELECT id FROM push_deliveries WHERE state = 'pending' AND next_attempt_at <= $1"
        " AND (locked_until IS NULL OR locked_until <= $1)"
        f" ORDER BY id LIMIT $3 {_skip_locked(txn)}"
        f") RETURNING {_DELIVERY_COLUMNS}",
        now,
        lease_until,
        limit,
    )
    return sorted((_delivery(r) for r in rows), key=lambda d: d.id)


async def record_attempt_txn(
    txn: Txn,
    delivery_id: int,
    state: PushState,
    attempts: int,
    next_attempt_at: int,
    status: int | None,
    error: str | None,
    now: int,
) -> None:
    """Store the outcome of an attempt and release the lease."""
    await txn.execute(
        "UPDATE push_deliveries SET state = $2, attempts = $3, next_attempt_at = $4, "
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


async def delete_registration_txn(txn: Txn, registration_sid: str) -> bool:
    """Forget a registration its provider called dead; whether it was still there."""
    deleted = await txn.execute("DELETE FROM push_registrations WHERE sid = $1", registration_sid)
    return deleted > 0


async def release_txn(txn: Txn, event_ids: Sequence[int], delivery_ids: Sequence[int]) -> None:
    """Give back leases not used (a process shutting down)."""
    for event_id in event_ids:
        await txn.execute("UPDATE push_events SET locked_until = NULL WHERE id = $1", event_id)
    for delivery_id in delivery_ids:
        await txn.execute(
            "UPDATE push_deliveries SET locked_until = NULL WHERE id = $1 AND state = 'pending'",
            delivery_id,
        )


async def unread_total_txn(txn: Txn, service_sid: str, identity: str) -> int:
    """The user's unread messages over all their channels (the APNs badge).

    A channel whose horizon the user never set counts all its messages: nothing was read.
    """
    row = await txn.fetchone(
        "SELECT COALESCE(SUM(CASE WHEN m.last_consumed_message_index IS NULL "
        "THEN c.messages_count "
        "WHEN c.next_message_index - 1 <= m.last_consumed_message_index THEN 0 "
        "ELSE c.next_message_index - 1 - m.last_consumed_message_index - "
        "(SELECT COUNT(*) FROM message_tombstones t WHERE t.channel_sid = m.channel_sid "
        "AND t.idx > m.last_consumed_message_index) END), 0) AS n "
        "FROM members m JOIN channels c ON c.sid = m.channel_sid "
        "WHERE m.service_sid = $1 AND m.identity = $2",
        service_sid,
        identity,
    )
    return 0 if row is None else int(row["n"])


async def purge_finished_txn(txn: Txn, before: int) -> int:
    """Forget finished deliveries last touched before ``before``."""
    return await txn.execute(
        "DELETE FROM push_deliveries WHERE date_updated < $1 AND state <> 'pending'", before
    )


async def count_pending_txn(txn: Txn) -> int:
    row = await txn.fetchone(
        "SELECT (SELECT COUNT(*) FROM push_deliveries WHERE state = 'pending') "
        "+ (SELECT COUNT(*) FROM push_events) AS n"
    )
    return 0 if row is None else int(row["n"])


async def next_due_txn(txn: Txn) -> int | None:
    """When the next event or delivery becomes claimable (ms); ``None``: nothing pending."""
    row = await txn.fetchone(
        "SELECT MIN(due) AS due FROM ("
        " SELECT COALESCE(locked_until, 0) AS due FROM push_events"
        " UNION ALL"
        " SELECT CASE WHEN locked_until > next_attempt_at THEN locked_until"
        " ELSE next_attempt_at END FROM push_deliveries WHERE state = 'pending'"
        ") d"
    )
    return None if row is None or row["due"] is None else int(row["due"])


async def list_deliveries_txn(
    txn: Txn, account_sid: str | None, state: PushState | None, limit: int
) -> list[PushDelivery]:
    """The newest deliveries first, optionally of one account and one state (the push log)."""
    conditions: list[str] = []
    args: list[object] = []
    if account_sid is not None:
        args.append(account_sid)
        conditions.append(f"account_sid = ${len(args)}")
    if state is not None:
        args.append(state)
        conditions.append(f"state = ${len(args)}")
    where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
    args.append(limit)
    rows = await txn.fetchall(
        f"SELECT {_DELIVERY_COLUMNS} FROM push_deliveries {where}ORDER BY id DESC "
        f"LIMIT ${len(args)}",
        *args,
    )
    return [_delivery(r) for r in rows]

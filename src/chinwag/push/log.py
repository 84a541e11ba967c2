"""``chinwag push log``: the push log (table ``push_deliveries``), read from the database.

Reading the table works with the server stopped and shows every process's pushes; each line
says to whom, through which provider, how it went and, for a failure, why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from chinwag.storage.database import Database
from chinwag.storage.engines import create_engine
from chinwag.storage.stores import push_outbox as store

STATES = ("pending", "delivered", "failed", "pruned")
#: the column titles over :func:`as_text` lines
TEXT_HEADER = (
    f"{'ID':>8}  {'CREATED':<20}  {'STATE':<9}  {'ATTEMPTS':<11}  {'KIND':<20}  TO  OUTCOME"
)


async def recent_pushes(
    database_url: str, state: store.PushState | None, limit: int
) -> list[store.PushDelivery]:
    db = Database(create_engine(database_url, pool_size=1))
    await db.open()
    try:
        return await db.run_read("push_log", store.list_deliveries_txn, None, state, limit)
    finally:
        await db.close()


def _date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_text(d: store.PushDelivery) -> str:
    """One line: when, what, to whose device, how it went."""
    outcome = d.last_error or "-"
    return (
        f"{d.id:>8}  {_date(d.date_created):<20}  {d.state:<9}  attempts={d.attempts:<2}  "
        f"{d.kind:<20}  {d.identity} ({d.channel_type} {d.registration_sid})  {outcome}"
    )


def as_dict(d: store.PushDelivery) -> dict[str, Any]:
    """One push as JSON-ready data (the CLI's ``--json`` lines)."""
    return {
        "id": d.id,
        "service_sid": d.service_sid,
        "identity": d.identity,
        "registration_sid": d.registration_sid,
        "channel_type": d.channel_type,
        "credential_sid": d.credential_sid,
        "kind": d.kind,
        "channel_sid": d.channel_sid,
        "message_sid": d.message_sid,
        "state": d.state,
        "attempts": d.attempts,
        "last_status": d.last_status,
        "last_error": d.last_error,
        "date_created": _date(d.date_created),
        "date_updated": _date(d.date_updated),
        "next_attempt_at": _date(d.next_attempt_at) if d.state == "pending" else None,
        "body": d.payload.get("body"),
    }


def as_json(d: store.PushDelivery) -> str:
    return orjson.dumps(as_dict(d)).decode()

"""``chinwag webhooks log``: the delivery log, read straight from the database.

Reading the table (rather than asking a running server) works with the server stopped, with
several processes, and shows every process's deliveries.
"""

from __future__ import annotations

from typing import Any

import orjson

from chinwag.model.records import Delivery, DeliveryState
from chinwag.storage.database import Database
from chinwag.storage.engines import create_engine
from chinwag.storage.stores import webhooks as store
from chinwag.webhooks.payloads import webhook_date


async def recent_deliveries(
    database_url: str, state: DeliveryState | None, limit: int
) -> list[Delivery]:
    db = Database(create_engine(database_url, pool_size=1))
    await db.open()
    try:
        return await db.run_read("webhook_log", store.list_deliveries_txn, state, limit)
    finally:
        await db.close()


#: The column titles over :func:`as_text` lines (a date is 24 characters wide).
TEXT_HEADER = (
    f"{'ID':>8}  {'CREATED':<24}  {'STATE':<9}  {'ATTEMPTS':<11}  {'EVENT':<18}  REQUEST  OUTCOME"
)


def as_text(d: Delivery) -> str:
    """One line: when, what, where, how it went (the error, or the last HTTP status)."""
    outcome = d.last_error or ("-" if d.last_status is None else f"HTTP {d.last_status}")
    return (
        f"{d.id:>8}  {webhook_date(d.date_created)}  {d.state:<9}  attempts={d.attempts:<2}  "
        f"{d.event_type:<18}  {d.method} {d.url}{_for_webhook(d)}  {outcome}"
    )


def _for_webhook(d: Delivery) -> str:
    """`` (channel webhook WH…)`` for a channel webhook's delivery; nothing for a Service's."""
    return "" if d.webhook_sid is None else f" (channel webhook {d.webhook_sid})"


def as_dict(d: Delivery) -> dict[str, Any]:
    """One delivery as JSON-ready data (the CLI's ``--json`` lines and the console's log)."""
    return {
        "id": d.id,
        "event_type": d.event_type,
        "service_sid": d.service_sid,
        "url": d.url,
        "method": d.method,
        "state": d.state,
        "attempts": d.attempts,
        "last_status": d.last_status,
        "last_error": d.last_error,
        "date_created": webhook_date(d.date_created),
        "date_updated": webhook_date(d.date_updated),
        "next_attempt_at": webhook_date(d.next_attempt_at) if d.state == "pending" else None,
        "params": d.params,
        #: the channel webhook the delivery is for (None: the Service's webhooks)
        "webhook_sid": d.webhook_sid,
        #: how often it may be retried (None: the server's --webhook-retries)
        "retries": d.retries,
    }


def as_json(d: Delivery) -> str:
    return orjson.dumps(as_dict(d)).decode()

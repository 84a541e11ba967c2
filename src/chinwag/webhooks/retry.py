"""Retry a failed post-event delivery by hand (the console's retry button).

The row goes back into the outbox as pending and due now; the dispatcher then sends it like any
other delivery, with its ordering, lease and signature, and records the outcome in the same
row. Nothing is sent from the request that asked.
"""

from __future__ import annotations

from collections.abc import Callable

from chinwag.clock import Clock
from chinwag.model.records import DeliveryState
from chinwag.storage.database import Database
from chinwag.storage.stores import webhooks as store


async def retry_failed(
    db: Database, clock: Clock, wake: Callable[[], None], delivery_id: int
) -> DeliveryState | None:
    """Re-queue delivery ``delivery_id`` if it failed and wake the dispatcher.

    Returns the state it had: ``"failed"`` means it is queued again; ``None`` that there is no
    such delivery; anything else that it was left alone.
    """
    state = await db.run_in_txn(
        "retry_webhook", store.requeue_failed_txn, delivery_id, clock.now_ms()
    )
    if state == "failed":
        wake()
    return state

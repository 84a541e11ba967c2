"""Background delivery of post-events from the outbox (one dispatcher per server process).

The loop claims due deliveries (a lease, see ``stores/webhooks.py``), sends them concurrently,
and records each outcome: delivered on a 2xx; on a connection error, timeout, 429 or 5xx
retried after ``retry_base * 2**(attempt-1)`` seconds (at most :data:`MAX_BACKOFF`) until
``retries`` retries are spent (a channel webhook's delivery: its own ``retry_count``); failed
otherwise.

Every scheduling decision (what is due, when a retry falls due, when a lease expires, what is
old enough to purge) reads the injected :class:`~chinwag.clock.Clock`. With nothing to send,
the loop sleeps on that clock until the next delivery falls due, at most ``poll`` seconds, or
until a commit that wrote deliveries wakes it::

    claim due rows --sent some--> claim again
        |
        nothing due
        v
    sleep until min(next due, now + poll) --clock reaches it / commit wakes--> claim due rows

The poll is how it sees rows other processes wrote; a test's ``FakeClock.advance`` ends the
sleep at once, so retry tests step time instead of waiting for it.

Delivery is at least once: a process killed mid-send leaves a lease that expires, and the row
is sent again. Finished rows are purged after ``retention`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from chinwag.clock import Clock
from chinwag.model.records import Delivery, DeliveryState
from chinwag.storage.database import Database
from chinwag.storage.stores import webhooks as store
from chinwag.webhooks.sender import Sender
from chinwag.worker import OutboxWorker

log = logging.getLogger(__name__)

#: longest wait between two attempts of one delivery, seconds
MAX_BACKOFF = 300.0


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    retries: int = 8
    retry_base: float = 1.0
    retention: float = 7 * 24 * 3600.0
    poll: float = 1.0
    batch: int = 32
    #: a claimed delivery not recorded by then is claimed again (its process died)
    lease: float = 60.0
    #: on shutdown, how long in-flight sends may take to finish
    grace: float = 6.0


def retry_limit(d: Delivery, default: int) -> int:
    """How often ``d`` may be retried: its channel webhook's ``retry_count``, else ``default``
    (the server's ``--webhook-retries``)."""
    return default if d.retries is None else d.retries


class _Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.pending = Gauge(
            "chinwag_webhook_outbox_pending",
            "Post-event deliveries waiting to be sent (all processes).",
            registry=registry,
        )
        self.attempts = Counter(
            "chinwag_webhook_attempts",
            "Webhook delivery attempts by outcome.",
            ["outcome"],
            registry=registry,
        )


class Dispatcher(OutboxWorker):
    """The post-event outbox's worker (its loop: :class:`~chinwag.worker.OutboxWorker`)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        sender: Sender,
        auth_token: Callable[[str], str],
        settings: DispatchSettings,
        registry: CollectorRegistry | None = None,
    ) -> None:
        super().__init__("webhook-dispatcher", clock, poll=settings.poll, grace=settings.grace)
        self.db = db
        self.sender = sender
        self.auth_token = auth_token
        self.settings = settings
        self._metrics = _Metrics(registry or CollectorRegistry())
        self._leased: set[int] = set()
        self._next_purge = 0

    async def next_due(self) -> int | None:
        return await self.db.run_read("next_webhook_due", store.next_due_txn)

    async def release(self) -> None:
        """Give back the leases of anything not recorded, so another process (or the next
        start) sends it; then close the sender."""
        try:
            if self._leased:
                await self.db.run_in_txn("release_webhooks", store.release_txn, list(self._leased))
        finally:
            await self.sender.aclose()

    async def run_once(self) -> int:
        """Claim and send one batch; returns how many deliveries it attempted."""
        now = self.clock.now_ms()
        lease_until = now + int(self.settings.lease * 1000)
        batch = await self.db.run_in_txn(
            "claim_webhooks", store.claim_due_txn, now, lease_until, self.settings.batch
        )
        self._leased.update(d.id for d in batch)
        await asyncio.gather(*(self._deliver(d) for d in batch))
        return len(batch)

    async def _deliver(self, d: Delivery) -> None:
        params = {**d.params, "RetryCount": str(d.attempts)}
        attempt = await self.sender.send(d.url, d.method, params, self.auth_token(d.account_sid))
        attempts = d.attempts + 1
        now = self.clock.now_ms()
        state: DeliveryState
        next_at = now
        if attempt.delivered:
            state = "delivered"
        elif attempt.retryable and attempts <= retry_limit(d, self.settings.retries):
            state = "pending"
            next_at = now + int(self.backoff(attempts) * 1000)
        else:
            state = "failed"
            # 50057 is how Twilio's debugger logs a post-event that did not succeed
            log.warning(
                "webhook %s to %s failed after %d attempt(s): %s (50057)",
                d.event_type,
                d.url,
                attempts,
                attempt.error or f"HTTP {attempt.status}",
            )
        await self.db.run_in_txn(
            "record_webhook",
            store.record_attempt_txn,
            d.id,
            state,
            attempts,
            next_at,
            attempt.status,
            attempt.error,
            now,
        )
        self._leased.discard(d.id)
        # counted once recorded: a test that sees the count may step the clock past the retry
        self._metrics.attempts.labels("delivered" if attempt.delivered else "failed").inc()

    def backoff(self, attempts: int) -> float:
        """Seconds before retry number ``attempts``: exponential, capped."""
        return min(self.settings.retry_base * 2.0 ** (attempts - 1), MAX_BACKOFF)

    async def housekeeping(self) -> None:
        """Every few seconds of clock time: refresh the pending gauge; purge old records."""
        now = self.clock.now_ms()
        if now < self._next_purge:
            return
        self._next_purge = now + int(max(self.settings.poll, 5.0) * 1000)
        before = now - int(self.settings.retention * 1000)
        await self.db.run_in_txn("purge_webhooks", store.purge_finished_txn, before)
        self._metrics.pending.set(await self.db.run_read("count_webhooks", store.count_pending_txn))

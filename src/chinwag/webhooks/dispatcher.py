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
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from chinwag.clock import Clock
from chinwag.errors import DatabaseUnavailableError
from chinwag.model.records import Delivery, DeliveryState
from chinwag.storage.database import Database
from chinwag.storage.stores import webhooks as store
from chinwag.webhooks.sender import Sender

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


class Dispatcher:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        sender: Sender,
        auth_token: Callable[[str], str],
        settings: DispatchSettings,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.sender = sender
        self.auth_token = auth_token
        self.settings = settings
        self._metrics = _Metrics(registry or CollectorRegistry())
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._leased: set[int] = set()
        self._next_purge = 0
        self._stopping = False

    def wake(self) -> None:
        """Deliver soon: a transaction that wrote deliveries just committed."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook-dispatcher")

    async def stop(self) -> None:
        """Stop claiming; give in-flight sends their timeout to finish, then give back the
        leases of anything not recorded, so another process (or the next start) sends it."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), self.settings.grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._leased:
            with contextlib.suppress(Exception):
                await self.db.run_in_txn("release_webhooks", store.release_txn, list(self._leased))
        await self.sender.aclose()

    async def _run(self) -> None:
        while not self._stopping:
            due: int | None = None
            try:
                sent = await self.run_once()
                await self._housekeeping()
                if not sent:
                    due = await self.db.run_read("next_webhook_due", store.next_due_txn)
            except DatabaseUnavailableError as exc:  # /healthz says so too; retry next poll
                log.warning("webhook dispatcher waiting for the database: %s", exc)
                sent = 0
            except Exception:  # a bug: log it, keep delivering
                log.exception("webhook dispatcher cycle failed")
                sent = 0
            if not sent and not self._stopping:
                await self._idle(due)

    async def _idle(self, due: int | None) -> None:
        """Sleep until ``due`` (at most ``poll``) or until a commit wakes us.

        ``due`` is read from the rows after the last claim, not computed from that claim's
        time: a retry that fell due meanwhile (a clock advanced between claim and sleep) ends
        the sleep at once.
        """
        deadline = self.clock.now_ms() + int(self.settings.poll * 1000)
        if due is not None:
            deadline = min(deadline, due)
        sleeping = asyncio.ensure_future(self.clock.sleep_until(deadline))
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait((sleeping, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (sleeping, woken):
                waiter.cancel()
            self._wake.clear()

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

    async def _housekeeping(self) -> None:
        """Every few seconds of clock time: refresh the pending gauge; purge old records."""
        now = self.clock.now_ms()
        if now < self._next_purge:
            return
        self._next_purge = now + int(max(self.settings.poll, 5.0) * 1000)
        before = now - int(self.settings.retention * 1000)
        await self.db.run_in_txn("purge_webhooks", store.purge_finished_txn, before)
        self._metrics.pending.set(await self.db.run_read("count_webhooks", store.count_pending_txn))

"""Background delivery of the push outbox (one dispatcher per server process).

Each cycle expands the events that are due into deliveries (``push/fanout.py``), then claims
due deliveries with a lease and sends them concurrently, recording each outcome in its own
transaction right after its attempt::

    DELIVERED   -> delivered
    RETRY       -> pending again after max(retry_base * 2**(attempt-1), Retry-After) seconds
                   (at most MAX_BACKOFF), until ``retries`` retries are spent -> failed
    GONE        -> pruned, and the registration is deleted in the same transaction
    CREDENTIAL  -> failed (the credential cannot work: reported, not retried)
    REJECTED    -> failed

Between cycles it sleeps as every outbox worker does (``chinwag/worker.py``). Leases make
several processes share the work: an event is expanded once, and a delivery is attempted by
one process at a time; only a process that dies between a send and its record leaves a push to
be sent again (with the same push id).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from chinwag.clock import Clock
from chinwag.push.credentials import StoredCredential
from chinwag.push.fanout import expand_txn
from chinwag.push.outcomes import Outcome, Result, credential_failure
from chinwag.push.payloads import Notice
from chinwag.push.providers import Providers
from chinwag.storage.database import Database, Txn
from chinwag.storage.stores import credentials as credential_store
from chinwag.storage.stores import push_outbox as store
from chinwag.worker import OutboxWorker

log = logging.getLogger(__name__)

#: longest wait between two attempts of one push, seconds
MAX_BACKOFF = 300.0
_STATES: dict[Outcome, store.PushState] = {
    Outcome.DELIVERED: "delivered",
    Outcome.GONE: "pruned",
    Outcome.CREDENTIAL: "failed",
    Outcome.REJECTED: "failed",
}

#: called in the transaction that deleted a dead registration: (txn, service_sid, identity)
RegistrationRemoved = Callable[[Txn, str, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PushDispatchSettings:
    retries: int = 8
    retry_base: float = 1.0
    retention: float = 7 * 24 * 3600.0
    poll: float = 1.0
    #: events expanded, and deliveries claimed, per cycle
    batch: int = 64
    #: a claimed row not recorded by then is claimed again (its process died)
    lease: float = 60.0
    #: on shutdown, how long in-flight sends may take to finish
    grace: float = 6.0


class _Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.pending = Gauge(
            "chinwag_push_outbox_pending",
            "Push events and deliveries waiting to be sent (all processes).",
            registry=registry,
        )
        self.attempts = Counter(
            "chinwag_push_attempts",
            "Push attempts by provider (fcm, apns, none) and outcome.",
            ["provider", "outcome"],
            registry=registry,
        )


class PushDispatcher(OutboxWorker):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        providers: Providers,
        settings: PushDispatchSettings,
        *,
        registration_removed: RegistrationRemoved | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        super().__init__("push-dispatcher", clock, poll=settings.poll, grace=settings.grace)
        self.db = db
        self.providers = providers
        self.settings = settings
        self._registration_removed = registration_removed
        self._metrics = _Metrics(registry or CollectorRegistry())
        self._leased_events: set[int] = set()
        self._leased: set[int] = set()
        self._next_purge = 0

    async def stop(self) -> None:
        """Stop (see ``OutboxWorker.stop``: unrecorded rows go back to the outbox, for another
        process or the next start), then close the provider connections."""
        await super().stop()
        await self.providers.aclose()

    async def release(self) -> None:
        if self._leased or self._leased_events:
            await self.db.run_in_txn(
                "release_pushes", store.release_txn, list(self._leased_events), list(self._leased)
            )

    async def next_due(self) -> int | None:
        return await self.db.run_read("next_push_due", store.next_due_txn)

    async def run_once(self) -> int:
        """Expand one batch of events and send one batch of deliveries; how much was done."""
        return await self._expand() + await self._send()

    async def _expand(self) -> int:
        now = self.clock.now_ms()
        lease_until = now + int(self.settings.lease * 1000)
        events = await self.db.run_in_txn(
            "claim_push_events", store.claim_events_txn, now, lease_until, self.settings.batch
        )
        self._leased_events.update(e.id for e in events)
        for event in events:
            await self.db.run_in_txn("expand_push_event", expand_txn, event, self.clock.now_ms())
            self._leased_events.discard(event.id)
        return len(events)

    async def _send(self) -> int:
        now = self.clock.now_ms()
        lease_until = now + int(self.settings.lease * 1000)
        batch = await self.db.run_in_txn(
            "claim_pushes", store.claim_deliveries_txn, now, lease_until, self.settings.batch
        )
        self._leased.update(d.id for d in batch)
        credentials = await self.db.run_read("push_credentials", _credentials_txn, batch)
        results = await asyncio.gather(
            *(self._deliver(d, credentials) for d in batch), return_exceptions=True
        )
        for d, outcome in zip(batch, results, strict=True):
            if isinstance(outcome, Exception):  # its lease runs out and it is tried again
                log.error("push %d was not recorded", d.id, exc_info=outcome)
        return len(batch)

    async def _deliver(
        self, d: store.PushDelivery, credentials: dict[tuple[str, str], StoredCredential]
    ) -> None:
        credential = credentials.get((d.account_sid, d.credential_sid or ""))
        if credential is None:
            why = "no credential named" if d.credential_sid is None else "no such credential"
            result = credential_failure(f"{why} {d.credential_sid or ''}".strip())
        else:
            result = await self.providers.send(
                credential, d.channel_type, d.address, await self._notice(d)
            )
        await self._record(d, result)

    async def _notice(self, d: store.PushDelivery) -> Notice:
        p = d.payload
        badge = None
        if p.get("badge") and d.channel_type == "apn":
            badge = await self.db.run_read(
                "push_badge", store.unread_total_txn, d.service_sid, d.identity
            )
        return Notice(
            kind=d.kind,  # type: ignore[arg-type]
            body=p["body"],
            channel_sid=d.channel_sid,
            channel_title=p["channel_title"],
            message_sid=d.message_sid,
            message_index=p.get("message_index"),
            author=p.get("author"),
            sound=p.get("sound"),
            badge=badge,
            push_id=p.get("push_id"),
        )

    async def _record(self, d: store.PushDelivery, result: Result) -> None:
        attempts = d.attempts + 1
        now = self.clock.now_ms()
        next_at = now
        if result.outcome is Outcome.RETRY:
            if attempts <= self.settings.retries:
                state: store.PushState = "pending"
                wait = max(self.backoff(attempts), result.retry_after or 0.0)
                next_at = now + int(wait * 1000)
            else:
                state = "failed"
        else:
            state = _STATES[result.outcome]
        if state == "failed":
            log.warning(
                "push %d to %s's %s device failed after %d attempt(s): %s",
                d.id,
                d.identity,
                d.channel_type,
                attempts,
                result.reason,
            )

        async def record_txn(txn: Txn) -> None:
            await store.record_attempt_txn(
                txn, d.id, state, attempts, next_at, result.status, result.reason, now
            )
            removed = state == "pruned" and await store.delete_registration_txn(
                txn, d.registration_sid
            )
            if removed and self._registration_removed is not None:
                await self._registration_removed(txn, d.service_sid, d.identity)

        await self.db.run_in_txn("record_push", record_txn)
        self._leased.discard(d.id)
        provider = {"apn": "apns", "fcm": "fcm", "gcm": "fcm"}.get(d.channel_type, "none")
        self._metrics.attempts.labels(provider, result.outcome.value).inc()

    def backoff(self, attempts: int) -> float:
        """Seconds before retry number ``attempts``: exponential, capped."""
        return min(self.settings.retry_base * 2.0 ** (attempts - 1), MAX_BACKOFF)

    async def housekeeping(self) -> None:
        """Every few seconds of clock time: purge old records, refresh the pending gauge."""
        now = self.clock.now_ms()
        if now < self._next_purge:
            return
        self._next_purge = now + int(max(self.settings.poll, 5.0) * 1000)
        before = now - int(self.settings.retention * 1000)
        await self.db.run_in_txn("purge_pushes", store.purge_finished_txn, before)
        self._metrics.pending.set(await self.db.run_read("count_pushes", store.count_pending_txn))


async def _credentials_txn(
    txn: Txn, batch: list[store.PushDelivery]
) -> dict[tuple[str, str], StoredCredential]:
    """The credentials a batch names, each read once."""
    found: dict[tuple[str, str], StoredCredential] = {}
    for key in {(d.account_sid, d.credential_sid) for d in batch if d.credential_sid}:
        account_sid, sid = key
        assert sid is not None
        credential = await credential_store.find_credential_txn(txn, account_sid, sid)
        if credential is not None:
            found[(account_sid, sid)] = credential
    return found

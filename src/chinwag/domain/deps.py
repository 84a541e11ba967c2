"""What domain operations need from the outside world, bundled so it hangs off the app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from chinwag.clock import Clock
from chinwag.domain import policy
from chinwag.domain.events import Actor, Event
from chinwag.domain.pre_events import PreEvent
from chinwag.domain.rate_limits import RateLimits
from chinwag.events.bus import EventBus
from chinwag.sids import SidGenerator
from chinwag.storage.database import Database, Txn, single_statement

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

E = TypeVar("E", bound=PreEvent)


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated account and the actor on whose behalf an operation runs."""

    account_sid: str
    actor: Actor


class WebhookGate(Protocol):
    """The webhook pipeline as domain operations see it (implemented in ``chinwag.webhooks``).

    :meth:`Deps.pre_event` asks :meth:`runs_pre` and, if so, hands :meth:`pre` the typed
    pre-event (the gate renders it to form parameters) *before* the action's transaction (no
    transaction is held open while a customer's endpoint thinks); inside the transaction
    every event goes through :meth:`enqueue_txn`, which writes the post-event deliveries to the
    outbox so they commit or roll back with the change.
    """

    def runs_pre(self, actor: Actor) -> bool: ...

    def runs_post(self, actor: Actor) -> bool: ...

    async def pre(self, caller: Caller, service_sid: str, event: PreEvent) -> Mapping[str, Any]: ...

    async def enqueue_txn(self, txn: Txn, event: Event) -> None: ...


class NoWebhooks:
    """The gate of a process that sends no webhooks (CLI commands, account bootstrap)."""

    def runs_pre(self, actor: Actor) -> bool:
        return False

    def runs_post(self, actor: Actor) -> bool:
        return False

    async def pre(self, caller: Caller, service_sid: str, event: PreEvent) -> Mapping[str, Any]:
        return {}

    async def enqueue_txn(self, txn: Txn, event: Event) -> None:
        return None


class Projection(Protocol):
    """The views clients read (implemented in ``chinwag.realtime.sync``): every event passes
    through :meth:`record_txn` inside its transaction, so what a client may be told of a
    change commits or rolls back with the change itself."""

    async def record_txn(self, txn: Txn, event: Event) -> None: ...


class NoProjection:
    """No Sync records: only for code that changes no chat state (tests of other parts).
    Anything that may change chat state uses the real projection, or clients miss it."""

    async def record_txn(self, txn: Txn, event: Event) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Deps:
    db: Database
    clock: Clock
    sids: SidGenerator
    bus: EventBus
    webhooks: WebhookGate = field(default_factory=NoWebhooks)
    limits: RateLimits = field(default_factory=RateLimits)
    projection: Projection = field(default_factory=NoProjection)

    def single_statement(self, actor: Actor, fn: F) -> F:
        """Declare ``fn`` a single-statement unit of work (see
        :func:`~chinwag.storage.database.single_statement`) unless more than its statement must
        commit with the change: the policy's check of a chat user (which reads roles inside the
        transaction), or the outbox rows :meth:`emit` writes for ``actor``. The Database then
        runs it as an ordinary transaction."""
        if policy.is_checked(actor) or self.webhooks.runs_post(actor):
            return fn
        return single_statement(fn)

    async def emit(self, txn: Txn, event: Event) -> None:
        """Describe a change made in ``txn``: its post-event webhooks and its Sync events join
        the transaction and the event is published on the bus once the transaction commits."""
        await self.webhooks.enqueue_txn(txn, event)
        await self.projection.record_txn(txn, event)
        txn.call_after(self.bus.publish, event)

    async def pre_event(
        self, caller: Caller, service_sid: str, build: Callable[[Txn], Awaitable[E]]
    ) -> E | None:
        """The pre-event step of every operation that has one.

        If ``caller``'s actions fire pre-events, ``build`` runs in a read transaction (it
        resolves and authorizes what the action touches, so a refused action calls no
        endpoint, and returns the pre-event); the gate sends it, *before* the action's write
        transaction opens. Returns the pre-event with the changes the endpoint asked for
        applied, for the operation to check and use; None when no pre-event runs.
        """
        if not self.webhooks.runs_pre(caller.actor):
            return None
        event = await self.db.run_read("pre_event", build)
        changes = await self.webhooks.pre(caller, service_sid, event)
        return event.with_changes(changes)

"""What domain operations need from the outside world, bundled so it hangs off the app."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from chinwag.clock import Clock
from chinwag.domain.events import Actor, Event
from chinwag.events.bus import EventBus
from chinwag.sids import SidGenerator
from chinwag.storage.database import Database, Txn


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated account and the actor on whose behalf an operation runs."""

    account_sid: str
    actor: Actor


class WebhookGate(Protocol):
    """The webhook pipeline as domain operations see it (implemented in ``chinwag.webhooks``).

    An action asks :meth:`runs_pre` and, if so, awaits :meth:`pre` *before* its transaction
    (no transaction is held open while a customer's endpoint thinks); inside the transaction
    every event goes through :meth:`enqueue_txn`, which writes the post-event deliveries to the
    outbox so they commit or roll back with the change.
    """

    def runs_pre(self, actor: Actor) -> bool: ...

    def runs_post(self, actor: Actor) -> bool: ...

    async def pre(
        self, caller: Caller, service_sid: str, event_type: str, params: Mapping[str, str]
    ) -> Mapping[str, Any]: ...

    async def enqueue_txn(self, txn: Txn, event: Event) -> None: ...


class NoWebhooks:
    """The gate of a process that sends no webhooks (CLI commands, account bootstrap)."""

    def runs_pre(self, actor: Actor) -> bool:
        return False

    def runs_post(self, actor: Actor) -> bool:
        return False

    async def pre(
        self, caller: Caller, service_sid: str, event_type: str, params: Mapping[str, str]
    ) -> Mapping[str, Any]:
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
    projection: Projection = field(default_factory=NoProjection)

    async def emit(self, txn: Txn, event: Event) -> None:
        """Describe a change made in ``txn``: its post-event webhooks and its Sync events join
        the transaction and the event is published on the bus once the transaction commits."""
        await self.webhooks.enqueue_txn(txn, event)
        await self.projection.record_txn(txn, event)
        txn.call_after(self.bus.publish, event)

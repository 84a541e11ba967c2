"""What domain operations need from the outside world, bundled so it hangs off the app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, overload

from chinwag.clock import Clock
from chinwag.domain import policy
from chinwag.domain.once import Once
from chinwag.domain.pre_events import PreEvent
from chinwag.domain.rate_limits import RateLimits
from chinwag.model.ephemeral import EphemeralEvent
from chinwag.model.events import Actor, Event
from chinwag.model.topics import BusEvent, Topic
from chinwag.sids import SidGenerator
from chinwag.storage.database import Database, Txn, single_statement
from chinwag.storage.stores import services as service_store

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

R = TypeVar("R")

E = TypeVar("E", bound=PreEvent)

B = TypeVar("B", bound=BusEvent)

#: a plain function is called during ``publish`` (it must be quick: hand work to a queue); an
#: ``async def`` runs on its own task, fed by its own bounded queue
Subscriber = Callable[[B], Awaitable[None] | None]
Unsubscribe = Callable[[], None]


class EventBus(Protocol):
    """The event bus as the domain sees it, whatever carries it.

    Two publish paths, never mixed: :meth:`publish` takes a domain
    :class:`~chinwag.model.events.Event` (only :meth:`Deps.emit` calls it, from an after-commit
    hook, so no subscriber sees a change that was rolled back); :meth:`publish_ephemeral`
    takes an :class:`~chinwag.model.ephemeral.EphemeralEvent` (typing, presence): no
    transaction, no storage, no replay. Publishing never waits for a subscriber.
    """

    @overload
    def subscribe(
        self, subscriber: Subscriber[Event], *, queue_size: int | None = None
    ) -> Unsubscribe: ...

    @overload
    def subscribe(
        self, subscriber: Subscriber[B], *, topic: Topic[B], queue_size: int | None = None
    ) -> Unsubscribe: ...

    def subscribe(
        self,
        subscriber: Subscriber[B],
        *,
        topic: Topic[B] | None = None,
        queue_size: int | None = None,
    ) -> Unsubscribe:
        """Deliver the events of ``topic`` (by default every domain event, no ephemeral one)
        to ``subscriber``; returns a function that stops it."""
        ...

    def publish(self, event: Event) -> None:
        """Deliver a committed change's event to every subscriber whose topic matches."""
        ...

    def publish_ephemeral(self, event: EphemeralEvent) -> None:
        """Deliver an event that belongs to no transaction, at once."""
        ...

    async def close(self) -> None:
        """Stop delivering; subscribers' queued events are dropped."""
        ...


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


class PushQueue(Protocol):
    """The push outbox as domain operations see it (implemented in ``chinwag.push``).

    Every event passes through :meth:`enqueue_txn` inside its transaction: a change that
    notifies phones (a new message, an add, an invitation, a removal) writes its push row
    there, so it commits or rolls back with the change, and the sending happens after commit,
    elsewhere, never in the request. :meth:`may_enqueue` says whether it writes anything at all
    (delivery can be switched off), which decides whether a unit of work can be a single
    statement.
    """

    def may_enqueue(self) -> bool: ...

    async def enqueue_txn(self, txn: Txn, event: Event) -> None: ...


class NoPushes:
    """The push queue of a process that queues no pushes (CLI commands, tests of other
    parts, a server with ``--push-enabled false``)."""

    def may_enqueue(self) -> bool:
        return False

    async def enqueue_txn(self, txn: Txn, event: Event) -> None:
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
    pushes: PushQueue = field(default_factory=NoPushes)

    async def single_statement(self, caller: Caller, service_sid: str, push_kind: str, fn: F) -> F:
        """Declare ``fn`` a single-statement unit of work (see
        :func:`~chinwag.storage.database.single_statement`) unless more than its statement must
        commit with the change: the policy's check of a chat user (which reads roles inside the
        transaction), the webhook outbox rows :meth:`emit` writes for the caller's actor, or,
        where such a unit is one statement (PostgreSQL), a push of ``push_kind`` that the
        service has enabled. The Database then runs it as an ordinary transaction.

        Whether the service pushes is read just before the transaction, not in it: one
        statement cannot read it first. A create racing a change of that setting pushes as
        the setting was when it began. Without this read every create would be a transaction
        of its own while pushes are on (the default), and creates on one channel would queue
        for its row one commit at a time instead of sharing statement groups. SQLite runs a
        declared unit's statements in its transaction as usual, the push's too."""
        if policy.is_checked(caller.actor) or self.webhooks.runs_post(caller.actor):
            return fn
        if self.pushes.may_enqueue() and self.db.engine.single_statement_writes:
            setting = await self.db.run_read(
                "push_setting",
                service_store.push_setting_txn,
                caller.account_sid,
                service_sid,
                push_kind,
            )
            if setting is not None:
                return fn
        return single_statement(fn)

    async def write(
        self, desc: str, unit: Callable[[Txn], Awaitable[R]], once: Once[R] | None = None
    ) -> R:
        """Run an operation's write ``unit`` in a transaction (``desc`` names it).

        With ``once`` (a client command carrying an id), the id and the command's reply are
        recorded in the same transaction, after the change: a retry of an applied command
        fails there with :class:`~chinwag.errors.MutationAppliedError` and changes nothing.
        Such a unit is never a single statement.
        """
        if once is None:
            return await self.db.run_in_txn(desc, unit)

        async def recorded(txn: Txn) -> R:
            result = await unit(txn)
            await once.record_txn(txn, result)
            return result

        return await self.db.run_in_txn(desc, recorded)

    async def emit(self, txn: Txn, event: Event) -> None:
        """Describe a change made in ``txn``: its post-event webhooks, its push notifications
        and its Sync events join the transaction and the event is published on the bus once
        the transaction commits."""
        await self.webhooks.enqueue_txn(txn, event)
        if not txn.one_statement:  # then the service pushes none of it (single_statement)
            await self.pushes.enqueue_txn(txn, event)
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

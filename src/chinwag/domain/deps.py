"""What domain operations need from the outside world, bundled so it hangs off the app."""

from __future__ import annotations

from dataclasses import dataclass

from chinwag.clock import Clock
from chinwag.domain.events import Actor
from chinwag.events.bus import EventBus
from chinwag.sids import SidGenerator
from chinwag.storage.database import Database


@dataclass(frozen=True, slots=True)
class Deps:
    db: Database
    clock: Clock
    sids: SidGenerator
    bus: EventBus


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated account and the actor on whose behalf an operation runs."""

    account_sid: str
    actor: Actor

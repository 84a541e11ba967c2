"""Ephemeral events: what happens outside any transaction (typing, presence).

They travel on the bus's own path (``EventBus.publish_ephemeral``), never through
``Deps.emit``: nothing is stored, nothing waits for a commit and nothing is replayed. A lost
one is a missed hint ("ann is typing"), never lost data, which is why they may skip the
transaction that every :class:`~chinwag.model.events.Event` belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EphemeralEvent:
    """The base of events that belong to no transaction."""


@dataclass(frozen=True, slots=True)
class TypingStarted(EphemeralEvent):
    """A chat user started typing in a channel (the client's ``typing`` call)."""

    service_sid: str
    channel_sid: str
    identity: str
    #: seconds the indicator shows (the service's ``typing_indicator_timeout``)
    typing_timeout: int = 5
    #: the other members' identities, resolved by the publisher so no receiver reads the
    #: database for an event that lasts seconds
    recipients: tuple[str, ...] = ()
    account_sid: str = ""

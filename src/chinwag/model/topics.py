"""Topics: which bus events a subscriber wants, by class and by service or channel."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Generic, TypeVar

from chinwag.model.ephemeral import EphemeralEvent
from chinwag.model.events import Event
from chinwag.model.records import Channel, Service

#: what the event bus carries: committed changes and events that belong to no transaction
BusEvent = Event | EphemeralEvent

E = TypeVar("E", bound=BusEvent)


@dataclass(frozen=True, slots=True)
class Topic(Generic[E]):
    """Events that are instances of ``kinds`` and, when given, of one service or channel.

    ``Topic((MessageAdded, MessageUpdated), channel_sid=sid)`` is one channel's messages;
    ``Topic((EphemeralEvent,))`` every ephemeral event. Credential events belong to no service.
    """

    kinds: tuple[type[E], ...]
    service_sid: str | None = None
    channel_sid: str | None = None

    def matches(self, event: BusEvent) -> bool:
        if not isinstance(event, self.kinds):
            return False
        if self.service_sid is None and self.channel_sid is None:
            return True
        service_sid, channel_sid = scope(event)
        return (self.service_sid is None or self.service_sid == service_sid) and (
            self.channel_sid is None or self.channel_sid == channel_sid
        )


#: the default topic: every domain event (ephemeral ones must be asked for)
ALL_EVENTS: Topic[Event] = Topic((Event,))


def scope(event: BusEvent) -> tuple[str | None, str | None]:
    """The (service SID, channel SID) an event is about; None where it has none."""
    subject = event if isinstance(event, EphemeralEvent) else _subject(event)
    match subject:
        case Service(sid=service_sid):
            return service_sid, None
        case Channel(service_sid=service_sid, sid=channel_sid):
            return service_sid, channel_sid
    # every other snapshot (and every ephemeral event) names its service and channel itself
    return getattr(subject, "service_sid", None), getattr(subject, "channel_sid", None)


def _subject(event: Event) -> object:
    """The snapshot a domain event carries: its first field after ``actor``."""
    cls = type(event)
    name = _SUBJECT_FIELDS.get(cls)
    if name is None:
        name = _SUBJECT_FIELDS[cls] = dataclasses.fields(cls)[1].name
    return getattr(event, name)


_SUBJECT_FIELDS: dict[type[Event], str] = {}

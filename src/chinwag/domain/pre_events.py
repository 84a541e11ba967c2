"""Pre-events: actions about to happen, as typed objects the webhook gate renders and sends.

An operation builds its pre-event inside a read transaction (after resolving and authorizing
what it acts on) and hands it to :meth:`chinwag.domain.deps.Deps.pre_event`, the one helper
that runs the pre-event step; the gate turns it into form parameters (reference 6.4).

A pre-event carries no SID for an object being created, and no index or dates the action has
not produced yet. The endpoint's 200 reply may ask for changes (reference 6.5): recognised keys
replace the action's values before it runs, ``body`` and ``attributes`` for messages,
``friendlyName``, ``uniqueName`` and ``attributes`` for channels;
:meth:`PreEvent.with_changes` applies them, and the operation then checks the replaced values
as it checks the client's own. Attributes may be given as a JSON string or as a JSON value
(object, array), which is encoded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self, TypeVar, overload

import orjson

from chinwag import errors
from chinwag.model.records import Channel, ChannelType, Member, Message, User
from chinwag.model.unset import Unset, pick


@overload
def _text(changes: Mapping[str, Any], key: str, current: str | None) -> str | None: ...
@overload
def _text(
    changes: Mapping[str, Any], key: str, current: str | Unset | None
) -> str | Unset | None: ...
def _text(changes: Mapping[str, Any], key: str, current: str | Unset | None) -> str | Unset | None:
    if key not in changes:
        return current
    value = changes[key]
    if value is not None and not isinstance(value, str):
        raise errors.WebhookRejectedError()
    return value


@overload
def _attributes(changes: Mapping[str, Any], current: str | None) -> str | None: ...
@overload
def _attributes(changes: Mapping[str, Any], current: str | Unset | None) -> str | Unset | None: ...
def _attributes(changes: Mapping[str, Any], current: str | Unset | None) -> str | Unset | None:
    if "attributes" not in changes:
        return current
    value = changes["attributes"]
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


class _ChannelFields(Protocol):
    """A dataclass pre-event carrying a channel's names and attributes."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def friendly_name(self) -> str | Unset | None: ...

    @property
    def unique_name(self) -> str | Unset | None: ...

    @property
    def attributes(self) -> str | Unset | None: ...


C = TypeVar("C", bound=_ChannelFields)


@dataclass(frozen=True, slots=True)
class PreEvent:
    def with_changes(self, changes: Mapping[str, Any]) -> Self:
        """This action with the changes the endpoint asked for (most allow none)."""
        return self


@dataclass(frozen=True, slots=True)
class MessageSend(PreEvent):
    channel: Channel
    body: str
    attributes: str | None
    author: str

    def with_changes(self, changes: Mapping[str, Any]) -> Self:
        return dataclasses.replace(
            self,
            body=_text(changes, "body", self.body) or "",
            attributes=_attributes(changes, self.attributes),
        )


@dataclass(frozen=True, slots=True)
class MessageUpdate(PreEvent):
    """``message`` as stored; ``body``/``attributes`` as asked (UNSET: unchanged)."""

    message: Message
    body: str | Unset
    attributes: str | Unset | None

    @property
    def proposed(self) -> Message:
        return dataclasses.replace(
            self.message,
            body=pick(self.body, self.message.body),
            attributes=pick(self.attributes, self.message.attributes),
        )

    def with_changes(self, changes: Mapping[str, Any]) -> Self:
        body = self.body
        if "body" in changes:
            body = _text(changes, "body", self.message.body) or ""
        return dataclasses.replace(
            self, body=body, attributes=_attributes(changes, self.attributes)
        )


@dataclass(frozen=True, slots=True)
class MessageRemove(PreEvent):
    message: Message


@dataclass(frozen=True, slots=True)
class ChannelAdd(PreEvent):
    type: ChannelType
    friendly_name: str | None
    unique_name: str | None
    attributes: str | None
    created_by: str

    def with_changes(self, changes: Mapping[str, Any]) -> Self:
        return _with_channel_changes(self, changes)


@dataclass(frozen=True, slots=True)
class ChannelUpdate(PreEvent):
    """``channel`` as stored; the fields as asked (UNSET: unchanged)."""

    channel: Channel
    friendly_name: str | Unset | None
    unique_name: str | Unset | None
    attributes: str | Unset | None

    @property
    def proposed(self) -> Channel:
        c = self.channel
        return dataclasses.replace(
            c,
            friendly_name=pick(self.friendly_name, c.friendly_name),
            unique_name=pick(self.unique_name, c.unique_name),
            attributes=pick(self.attributes, c.attributes),
        )

    def with_changes(self, changes: Mapping[str, Any]) -> Self:
        return _with_channel_changes(self, changes)


def _with_channel_changes(event: C, changes: Mapping[str, Any]) -> C:
    """``friendlyName``, ``uniqueName`` and ``attributes`` may be replaced on channels."""
    return dataclasses.replace(
        event,
        friendly_name=_text(changes, "friendlyName", event.friendly_name),
        unique_name=_text(changes, "uniqueName", event.unique_name),
        attributes=_attributes(changes, event.attributes),
    )


@dataclass(frozen=True, slots=True)
class ChannelDestroy(PreEvent):
    channel: Channel


@dataclass(frozen=True, slots=True)
class MemberAdd(PreEvent):
    """``role_sid``: the role the member would get."""

    channel: Channel
    identity: str
    role_sid: str | None


@dataclass(frozen=True, slots=True)
class MemberRemove(PreEvent):
    member: Member


@dataclass(frozen=True, slots=True)
class UserUpdate(PreEvent):
    """The user as it would be after the update."""

    user: User

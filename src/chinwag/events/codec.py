"""A stable JSON form of bus events, so they can leave the process (the Redis fan-out).

The wire form of an event is one JSON object: ``"type"``, the tag :data:`TAGS` gives its class
(never derived from a Python name, so classes can be renamed), then one key per dataclass field
of the event, nested snapshots as objects, tuples as arrays::

    {"type": "message.added", "actor": {"source": "API", "identity": null, ...},
     "message": {"sid": "IM…", "index": 0, "body": "hi", ...}}

Evolution rules, so processes of two versions can share a bus during a rolling upgrade: add
fields with defaults only (a missing field with a default decodes to it; keys a class does not
know are ignored), never change a field's type, add new tags instead of reusing old ones.
``tests/events/test_codec.py`` pins the wire form.

Decoding checks every value against the dataclass's type hints; anything else (not JSON, an
unknown ``type``, a missing or mistyped field) raises :class:`EventDecodeError`, which a
consumer logs and skips (see ``LocalBus``), so one bad message cannot stop its loop.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args, get_origin, get_type_hints

import orjson

from chinwag.model import events as ev
from chinwag.model.ephemeral import TypingStarted
from chinwag.model.topics import BusEvent

#: the wire tag of every event class; a class missing here cannot be encoded
TAGS: Mapping[type[BusEvent], str] = {
    ev.CredentialAdded: "credential.added",
    ev.CredentialUpdated: "credential.updated",
    ev.CredentialRemoved: "credential.removed",
    ev.ServiceAdded: "service.added",
    ev.ServiceUpdated: "service.updated",
    ev.ServiceRemoved: "service.removed",
    ev.RoleAdded: "role.added",
    ev.RoleUpdated: "role.updated",
    ev.RoleRemoved: "role.removed",
    ev.UserAdded: "user.added",
    ev.UserUpdated: "user.updated",
    ev.UserRemoved: "user.removed",
    ev.UserReachabilityChanged: "user.reachability_changed",
    ev.ChannelAdded: "channel.added",
    ev.ChannelUpdated: "channel.updated",
    ev.ChannelRemoved: "channel.removed",
    ev.MemberAdded: "member.added",
    ev.MemberUpdated: "member.updated",
    ev.MemberRemoved: "member.removed",
    ev.InviteAdded: "invite.added",
    ev.InviteRemoved: "invite.removed",
    ev.MessageAdded: "message.added",
    ev.MessageUpdated: "message.updated",
    ev.MessageRemoved: "message.removed",
    TypingStarted: "typing.started",
}


class EventDecodeError(ValueError):
    """Bytes that are not a bus event this version understands."""


class UnknownEventTypeError(EventDecodeError):
    """A well-formed message whose ``type`` this version has no class for."""


#: decodes one JSON value into the Python value of a type hint; the str is where, for errors
Decoder = Callable[[Any, str], Any]


def encode(event: BusEvent) -> bytes:
    """The wire form of ``event`` (see the module docstring)."""
    wire: dict[str, Any] = {"type": TAGS[type(event)]}
    for name in _FIELDS[type(event)]:
        wire[name] = getattr(event, name)
    return orjson.dumps(wire, default=_mapping)


def decode(data: bytes | str) -> BusEvent:
    """The event ``data`` encodes; raises :class:`EventDecodeError` for anything else."""
    try:
        wire = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise EventDecodeError(f"not JSON: {exc}") from None
    if not isinstance(wire, dict):
        raise EventDecodeError("not a JSON object")
    tag = wire.get("type")
    decoder = _DECODERS.get(tag) if isinstance(tag, str) else None
    if decoder is None:
        raise UnknownEventTypeError(f"unknown event type {tag!r}")
    event: BusEvent = decoder(wire, str(tag))
    return event


def _mapping(value: object) -> object:
    """orjson's fallback: models hold read-only mappings that may not be dicts."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def _fail(where: str, expected: str, value: Any) -> EventDecodeError:
    return EventDecodeError(f"{where}: expected {expected}, got {type(value).__name__}")


def _scalar(kind: type) -> Decoder:
    def decode_scalar(value: Any, where: str) -> Any:
        if type(value) is not kind:  # exact: a bool is no int here
            raise _fail(where, kind.__name__, value)
        return value

    return decode_scalar


def _literal(choices: tuple[Any, ...]) -> Decoder:
    def decode_literal(value: Any, where: str) -> Any:
        if not any(type(value) is type(c) and value == c for c in choices):
            raise EventDecodeError(f"{where}: expected one of {choices!r}, got {value!r}")
        return value

    return decode_literal


def _optional(inner: Decoder) -> Decoder:
    def decode_optional(value: Any, where: str) -> Any:
        return None if value is None else inner(value, where)

    return decode_optional


def _tuple(item: Decoder) -> Decoder:
    def decode_tuple(value: Any, where: str) -> Any:
        if not isinstance(value, list):
            raise _fail(where, "array", value)
        return tuple(item(v, f"{where}[{i}]") for i, v in enumerate(value))

    return decode_tuple


def _mapping_of(item: Decoder) -> Decoder:
    def decode_mapping(value: Any, where: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(where, "object", value)
        return {k: item(v, f"{where}.{k}") for k, v in value.items()}

    return decode_mapping


def _decoder(hint: Any) -> Decoder:
    """The decoder of one type hint of the event and model dataclasses."""
    origin, args = get_origin(hint), get_args(hint)
    if hint in (str, int, bool):
        return _scalar(hint)
    if origin is Literal:
        return _literal(args)
    if origin in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        return _optional(_decoder(next(a for a in args if a is not type(None))))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _tuple(_decoder(args[0]))
    if origin in (Mapping, dict) and args[0] is str:
        return _mapping_of(_decoder(args[1]))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _object(hint)
    raise TypeError(f"the event codec has no wire form for {hint!r}")


def _object(cls: type) -> Decoder:
    """The decoder of a dataclass: its fields by name, defaults where a field is absent."""
    hints = get_type_hints(cls)
    fields = [
        (
            f.name,
            _decoder(hints[f.name]),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
    ]

    def decode_object(value: Any, where: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(where, "object", value)
        kwargs = {}
        for name, decoder, required in fields:
            if name in value:
                kwargs[name] = decoder(value[name], f"{where}.{name}")
            elif required:
                raise EventDecodeError(f"{where}: missing {name!r}")
        return cls(**kwargs)

    return decode_object


#: built at import, so a field type without a wire form fails at once, not on first use
_DECODERS: Mapping[str, Decoder] = {tag: _object(cls) for cls, tag in TAGS.items()}
_FIELDS: Mapping[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in TAGS
}

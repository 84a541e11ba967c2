"""The bus events' JSON codec: every event class round-trips, the wire form is pinned, and bad
input is a clear EventDecodeError."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin, get_type_hints

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chinwag.events import codec
from chinwag.model import ephemeral
from chinwag.model import events as ev
from chinwag.model.ephemeral import EphemeralEvent, TypingStarted
from chinwag.model.records import Message, Service

pytestmark = pytest.mark.unit


def _classes(module: types.ModuleType, base: type) -> set[type]:
    """The subclasses of ``base`` a module defines (``__subclasses__`` would also list the
    classes ``dataclass(slots=True)`` replaced)."""
    return {c for c in vars(module).values() if isinstance(c, type) and issubclass(c, base)} - {
        base
    }


def test_every_event_class_has_a_wire_tag() -> None:
    assert set(codec.TAGS) == _classes(ev, ev.Event) | _classes(ephemeral, EphemeralEvent)
    assert len(set(codec.TAGS.values())) == len(codec.TAGS)


def _strategy(hint: Any) -> st.SearchStrategy[Any]:
    """Values of a type hint of the event dataclasses, within what JSON and the database hold."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is str:
        return st.text(max_size=20)
    if hint is int:
        return st.integers(-(2**63), 2**63 - 1)
    if hint is bool:
        return st.booleans()
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (types.UnionType, typing.Union):
        return st.one_of(*(st.none() if a is type(None) else _strategy(a) for a in args))
    if origin is tuple:
        return st.lists(_strategy(args[0]), max_size=3).map(tuple)
    if origin is Mapping:
        return st.dictionaries(st.text(max_size=8), _strategy(args[1]), max_size=3)
    hints = get_type_hints(hint)
    fields = {f.name: _strategy(hints[f.name]) for f in dataclasses.fields(hint)}
    return st.builds(hint, **fields)


@pytest.mark.parametrize("cls", sorted(codec.TAGS, key=codec.TAGS.__getitem__))
@settings(max_examples=25)  # x 24 classes
@given(data=st.data())
def test_every_event_class_round_trips(cls: type[codec.BusEvent], data: st.DataObject) -> None:
    event = data.draw(_strategy(cls))
    wire = codec.encode(event)
    assert orjson.loads(wire)["type"] == codec.TAGS[cls]
    assert codec.decode(wire) == event


MESSAGE = Message("IM1", "AC1", "IS1", "CH1", 7, "ann", "hi", None, False, 1000, 2000)


def test_the_wire_form_is_stable() -> None:
    added = ev.MessageAdded(ev.Actor("SDK", "ann"), MESSAGE)
    assert orjson.loads(codec.encode(added)) == {
        "type": "message.added",
        "actor": {"source": "SDK", "identity": "ann", "webhook_enabled": False},
        "message": {
            "sid": "IM1",
            "account_sid": "AC1",
            "service_sid": "IS1",
            "channel_sid": "CH1",
            "index": 7,
            "author": "ann",
            "body": "hi",
            "attributes": None,
            "was_edited": False,
            "date_created": 1000,
            "date_updated": 2000,
            "media": None,
            "last_updated_by": None,
        },
    }
    typing_started = TypingStarted("IS1", "CH1", "ann", 5, ("bob",), "AC1")
    assert orjson.loads(codec.encode(typing_started)) == {
        "type": "typing.started",
        "service_sid": "IS1",
        "channel_sid": "CH1",
        "identity": "ann",
        "typing_timeout": 5,
        "recipients": ["bob"],
        "account_sid": "AC1",
    }


def test_a_newer_sender_s_extra_keys_are_ignored_and_missing_defaults_filled() -> None:
    service = Service("IS1", "AC1", "s", 1, 2, None, None, None)
    wire = orjson.loads(codec.encode(ev.ServiceUpdated(ev.API_ACTOR, service)))
    wire["from_the_future"] = 1
    wire["service"]["new_setting"] = "x"
    del wire["service"]["limits"]  # a field with a default
    assert codec.decode(orjson.dumps(wire)) == ev.ServiceUpdated(ev.API_ACTOR, service)


def test_an_unknown_type_is_a_clear_error() -> None:
    with pytest.raises(
        codec.UnknownEventTypeError, match=re.escape("unknown event type 'message.exploded'")
    ):
        codec.decode(b'{"type": "message.exploded"}')


GOOD = orjson.loads(codec.encode(ev.MessageAdded(ev.API_ACTOR, MESSAGE)))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b"{}", "unknown event type None"),
        (orjson.dumps({**GOOD, "message": None}), "message: expected object"),
        (orjson.dumps({**GOOD, "actor": {"source": "BOT"}}), "actor.source: expected one of"),
        (orjson.dumps({**GOOD, "message": {**GOOD["message"], "index": True}}), "index: expected"),
        (orjson.dumps({**GOOD, "message": {**GOOD["message"], "body": 5}}), "body: expected str"),
        (orjson.dumps({k: v for k, v in GOOD.items() if k != "actor"}), "missing 'actor'"),
    ],
)
def test_a_malformed_event_is_a_decode_error(data: bytes, problem: str) -> None:
    with pytest.raises(codec.EventDecodeError, match=problem):
        codec.decode(data)

"""LocalBus: plain and async subscribers, topics, bounded queues, the ephemeral path and the
transport seam the bus across processes plugs into."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from chinwag.events.local import LocalBus
from chinwag.model import events as ev
from chinwag.model.ephemeral import EphemeralEvent, TypingStarted
from chinwag.model.records import Channel, Message
from chinwag.model.topics import Topic, scope

pytestmark = pytest.mark.unit


def _message(channel_sid: str, index: int, service_sid: str = "IS1") -> ev.MessageAdded:
    message = Message("IM1", "AC1", service_sid, channel_sid, index, "a", "b", None, False, 1, 1)
    return ev.MessageAdded(ev.API_ACTOR, message)


def _channel(sid: str) -> ev.ChannelAdded:
    channel = Channel(sid, "AC1", "IS1", None, None, None, "public", "a", 0, 0, None, 1, 1)
    return ev.ChannelAdded(ev.API_ACTOR, channel)


def _run(scenario: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return asyncio.run(scenario())


async def _settle() -> None:
    """Let subscriber tasks run."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_plain_subscriber_is_called_during_publish_until_it_unsubscribes() -> None:
    bus, seen = LocalBus(), list[ev.Event]()
    unsubscribe = bus.subscribe(seen.append)
    bus.publish(_message("CH1", 0))
    assert [e.message.index for e in seen] == [0]  # type: ignore[attr-defined]
    unsubscribe()
    bus.publish(_message("CH1", 1))
    assert len(seen) == 1


def test_an_async_subscriber_gets_every_event_in_order() -> None:
    async def scenario() -> list[int]:
        bus, seen = LocalBus(), list[int]()

        async def slow(event: ev.Event) -> None:
            await asyncio.sleep(0.001)
            seen.append(event.message.index)  # type: ignore[attr-defined]

        bus.subscribe(slow)
        for index in range(5):
            bus.publish(_message("CH1", index))
        assert seen == []  # publish only queued them
        await asyncio.sleep(0.1)
        await bus.close()
        return seen

    assert _run(scenario) == [0, 1, 2, 3, 4]


def test_topics_filter_by_class_service_and_channel() -> None:
    bus = LocalBus()
    everything, messages, in_ch2, in_is2 = (list[Any]() for _ in range(4))
    bus.subscribe(everything.append)
    bus.subscribe(messages.append, topic=Topic((ev.MessageAdded,)))
    bus.subscribe(in_ch2.append, topic=Topic((ev.Event,), channel_sid="CH2"))
    bus.subscribe(in_is2.append, topic=Topic((ev.MessageAdded,), service_sid="IS2"))
    events = [_channel("CH2"), _message("CH1", 0), _message("CH2", 1), _message("CH3", 2, "IS2")]
    for event in events:
        bus.publish(event)
    assert everything == events
    assert messages == events[1:]
    assert in_ch2 == [events[0], events[2]]
    assert in_is2 == [events[3]]


def test_scope_names_the_service_and_channel_of_each_kind_of_event() -> None:
    assert scope(_channel("CH9")) == ("IS1", "CH9")
    assert scope(_message("CH1", 0)) == ("IS1", "CH1")
    assert scope(TypingStarted("IS1", "CH1", "ann")) == ("IS1", "CH1")


def test_ephemeral_events_take_their_own_path_and_only_reach_who_asked() -> None:
    bus = LocalBus()
    durable, typing = list[ev.Event](), list[EphemeralEvent]()
    bus.subscribe(durable.append)
    bus.subscribe(typing.append, topic=Topic((TypingStarted,), channel_sid="CH1"))
    bus.publish_ephemeral(TypingStarted("IS1", "CH1", "ann"))
    bus.publish_ephemeral(TypingStarted("IS1", "CH2", "bob"))
    assert durable == []  # the default topic is domain events only
    assert typing == [TypingStarted("IS1", "CH1", "ann")]


def test_a_full_queue_drops_new_events_for_that_subscriber_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> tuple[list[int], list[int], int]:
        bus, release = LocalBus(), asyncio.Event()
        stuck, fast = list[int](), list[int]()

        async def blocked(event: ev.Event) -> None:
            await release.wait()
            stuck.append(event.message.index)  # type: ignore[attr-defined]

        async def quick(event: ev.Event) -> None:
            fast.append(event.message.index)  # type: ignore[attr-defined]

        bus.subscribe(blocked, queue_size=2)
        bus.subscribe(quick)
        bus.publish(_message("CH1", 0))
        await _settle()  # ``blocked`` holds event 0 and waits
        for index in range(1, 6):
            bus.publish(_message("CH1", index))  # 1 and 2 queue, 3-5 are dropped
        release.set()
        await _settle()
        bus.publish(_message("CH1", 6))  # it caught up: room again
        await _settle()
        await bus.close()
        return stuck, fast, bus.dropped

    with caplog.at_level(logging.INFO, logger="chinwag.events.local"):
        stuck, fast, dropped = _run(scenario)
    assert stuck == [0, 1, 2, 6]
    assert fast == [0, 1, 2, 3, 4, 5, 6]
    assert dropped == 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once per overflow, not once per event
    assert "caught up; 3 dropped" in caplog.text


def test_a_failing_async_subscriber_is_logged_and_gets_the_next_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> list[int]:
        bus, seen = LocalBus(), list[int]()

        async def flaky(event: ev.Event) -> None:
            index: int = event.message.index  # type: ignore[attr-defined]
            if index == 0:
                raise RuntimeError("subscriber bug")
            seen.append(index)

        bus.subscribe(flaky)
        bus.publish(_message("CH1", 0))
        bus.publish(_message("CH1", 1))
        await _settle()
        await bus.close()
        return seen

    assert _run(scenario) == [1]
    assert "subscriber bug" in caplog.text


class _Wire:
    """An in-memory stand-in for the process boundary: what one end sends, the others get."""

    def __init__(self) -> None:
        self.ends: list[_End] = []

    def end(self) -> _End:
        end = _End(self)
        self.ends.append(end)
        return end


class _End:
    def __init__(self, wire: _Wire) -> None:
        self._wire = wire
        self.receive: Callable[[bytes], None] | None = None
        self.closed = False

    def attach(self, receive: Callable[[bytes], None]) -> None:
        self.receive = receive

    def send(self, data: bytes) -> None:
        for end in self._wire.ends:
            if end is not self and end.receive is not None:
                end.receive(data)

    async def close(self) -> None:
        self.closed = True


def test_a_transport_carries_events_to_other_buses_as_json(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wire = _Wire()
    here_end, there_end = wire.end(), wire.end()
    here, there = LocalBus(here_end), LocalBus(there_end)
    seen_here, seen_there = list[Any](), list[Any]()
    here.subscribe(seen_here.append, topic=Topic((ev.Event, EphemeralEvent)))
    there.subscribe(seen_there.append, topic=Topic((ev.Event, EphemeralEvent)))

    added, typing = _message("CH1", 0), TypingStarted("IS1", "CH1", "ann")
    here.publish(added)
    here.publish_ephemeral(typing)
    assert seen_here == [added, typing]  # once each: its own are not echoed back
    assert seen_there == [added, typing]  # equal copies, decoded from the wire
    assert seen_there[0] is not added

    assert here_end.receive is not None
    here_end.receive(b'{"type": "message.exploded"}')  # a newer process's event
    here_end.receive(b"\xff")
    there.publish(added)
    assert here.undecodable == 2
    assert seen_here[-1] == added  # and the next one is delivered
    assert "unknown event type 'message.exploded'" in caplog.text

    asyncio.run(here.close())
    assert here_end.closed

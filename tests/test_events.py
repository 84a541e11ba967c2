"""Domain events reach the bus after commit, and never for a change that failed."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException

from chinwag.model import events
from chinwag.model.topics import Topic
from chinwag.testing import ThreadedServer
from conftest import sdk_client

pytestmark = pytest.mark.server


@pytest.fixture
def published(server: ThreadedServer) -> Iterator[list[events.Event]]:
    seen: list[events.Event] = []
    unsubscribe = server.app.deps.bus.subscribe(seen.append)
    yield seen
    unsubscribe()


def test_each_mutation_publishes_one_typed_event(service: Any, published: list[Any]) -> None:
    channel = service.channels.create(unique_name="ev")
    member = service.channels("ev").members.create(identity="ann")
    message = service.channels("ev").messages.create(body="hi")
    service.channels("ev").messages(message.sid).update(body="edited")
    service.channels("ev").messages(message.sid).delete()
    service.channels("ev").members("ann").delete()
    service.channels("ev").delete()
    kinds = [type(e).__name__ for e in published]
    assert kinds == [
        "ChannelAdded",
        "UserAdded",
        "MemberAdded",
        "MessageAdded",
        "MessageUpdated",
        "MessageRemoved",
        "MemberRemoved",
        "ChannelRemoved",
    ]
    assert published[0].channel.sid == channel.sid
    assert published[2].member.sid == member.sid
    assert published[3].message.sid == message.sid
    assert published[4].message.body == "edited"
    assert all(e.actor == events.API_ACTOR for e in published)


def test_a_failed_mutation_publishes_nothing(service: Any, published: list[Any]) -> None:
    service.channels.create(unique_name="once")
    published.clear()
    with pytest.raises(TwilioRestException):
        service.channels.create(unique_name="once")
    with pytest.raises(TwilioRestException):
        service.channels("once").members.create(identity="US" + "0" * 32)
    assert published == []


def test_a_broken_subscriber_does_not_fail_the_request(
    server: ThreadedServer, service: Any, published: list[Any]
) -> None:
    def broken(event: events.Event) -> None:
        raise RuntimeError("subscriber bug")

    unsubscribe = server.app.deps.bus.subscribe(broken)
    try:
        assert service.channels.create(friendly_name="still fine").friendly_name == "still fine"
    finally:
        unsubscribe()
    assert [type(e).__name__ for e in published] == ["ChannelAdded"]


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_an_async_subscriber_on_a_topic_gets_its_events(
    server: ThreadedServer, service: Any
) -> None:
    channel = service.channels.create(friendly_name="topic")
    seen: list[events.Event] = []

    async def on_message(event: events.MessageAdded) -> None:
        await asyncio.sleep(0)
        seen.append(event)

    topic = Topic((events.MessageAdded,), channel_sid=channel.sid)
    unsubscribe = server.app.deps.bus.subscribe(on_message, topic=topic)
    try:
        service.channels.create(friendly_name="elsewhere").messages.create(body="not here")
        message = service.channels(channel.sid).messages.create(body="here")
        _wait_for(lambda: len(seen) == 1)
    finally:
        unsubscribe()
    assert [type(e).__name__ for e in seen] == ["MessageAdded"]
    assert seen[0].message.sid == message.sid  # type: ignore[attr-defined]


def test_a_slow_subscriber_delays_no_request_and_its_overflow_is_counted(
    fresh_server: ThreadedServer,
) -> None:
    release = threading.Event()
    seen: list[events.Event] = []

    async def stuck(event: events.Event) -> None:
        seen.append(event)
        await asyncio.to_thread(release.wait, 10)

    unsubscribe = fresh_server.app.deps.bus.subscribe(stuck, queue_size=2)
    try:
        service = sdk_client(fresh_server).chat.v1.services.create(friendly_name="slow")
        for body in "abcde":  # would hang if publishing awaited the subscriber
            service.channels.create(friendly_name=body)
        _wait_for(lambda: len(seen) == 1)
        assert [type(e).__name__ for e in seen] == ["ServiceAdded"]  # still stuck on it
        release.set()
        _wait_for(lambda: len(seen) == 3)  # then the two it had room for
    finally:
        release.set()
        unsubscribe()
    with httpx.Client(base_url=fresh_server.url) as http:
        metrics = http.get("/metrics").text
    assert "chinwag_bus_events_dropped_total 3.0" in metrics


def test_a_failing_async_subscriber_is_logged_and_the_request_succeeds(
    server: ThreadedServer, service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    failed = threading.Event()

    async def broken(event: events.Event) -> None:
        failed.set()
        raise RuntimeError("async subscriber bug")

    unsubscribe = server.app.deps.bus.subscribe(broken)
    try:
        assert service.channels.create(friendly_name="fine").friendly_name == "fine"
        assert failed.wait(5)
        _wait_for(lambda: "async subscriber bug" in caplog.text)
    finally:
        unsubscribe()

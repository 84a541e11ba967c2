"""Domain events reach the bus after commit, and never for a change that failed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException

from chinwag.domain import events
from chinwag.testing import ThreadedServer


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

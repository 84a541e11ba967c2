"""The pure parts of serving every SDK revision: registered notification types, the
acknowledgement barrier of read-your-own-writes, feed progress, command lists, page tokens."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest

from chinwag import errors
from chinwag.clock import FakeClock
from chinwag.realtime.sync import paging
from chinwag.realtime.sync.legacy_sessions import (
    IDLE_MS,
    MAX_ITEMS,
    MAX_PER_IDENTITY,
    SessionLists,
)
from chinwag.realtime.sync.subscriptions import Progress
from chinwag.realtime.twilsock import ordering
from chinwag.realtime.twilsock.ordering import Acks, frame_number
from chinwag.realtime.twilsock.revisions import MAX_TYPES, Registrations

pytestmark = pytest.mark.unit


def test_registrations_are_the_union_of_init_and_contexts() -> None:
    found = Registrations()
    found.from_init([{"message_types": ["a", "b"]}, "junk", {"message_types": None}])
    assert found.types == {"a", "b"}
    found.put("one", b'{"message_types": ["c"]}')
    found.put("two", b"")  # a context without types registers none
    assert found.types == {"a", "b", "c"}
    found.put("one", b'{"message_types": ["d"]}')
    assert found.types == {"a", "b", "d"}
    found.delete("one")
    found.delete("never seen")
    assert found.types == {"a", "b"}


@pytest.mark.parametrize(
    "payload",
    [b"[1]", b"{", b'{"message_types": "a"}', b'{"message_types": [1]}'],
)
def test_a_malformed_context_is_refused_and_changes_nothing(payload: bytes) -> None:
    found = Registrations()
    found.put("ok", b'{"message_types": ["a"]}')
    with pytest.raises(errors.ChinwagError) as refused:
        found.put("ok", payload)
    assert refused.value.status == 400
    assert found.types == {"a"}


def test_too_many_types_are_refused() -> None:
    payload = orjson.dumps({"message_types": [f"t{n}" for n in range(MAX_TYPES + 1)]})
    with pytest.raises(errors.InvalidParameterError):
        Registrations().put("ctx", payload)


def test_a_reply_waits_for_the_acknowledgement_then_the_handoff() -> None:
    async def scenario() -> None:
        acks = Acks()
        mark = acks.queued
        await asyncio.wait_for(acks.handed_over(mark), 0.5)  # nothing queued: no wait
        acks.sent(7)
        acks.sent(9)
        waiting = asyncio.ensure_future(acks.handed_over(mark))
        await asyncio.sleep(0.02)
        acks.acknowledged(frame_number("TS7"))
        await asyncio.sleep(0.02)
        assert not waiting.done()  # TS9 is not acknowledged yet
        started = time.monotonic()
        acks.acknowledged(frame_number("TS9"))
        await asyncio.wait_for(waiting, 0.5)
        assert time.monotonic() - started >= ordering.HANDOFF_SECONDS * 0.9
        assert frame_number("TM-not-ours") == frame_number(None) == frame_number("TS1x") == 0
        acks.acknowledged(0)

    asyncio.run(scenario())


def test_a_client_that_never_acknowledges_still_gets_its_reply(monkeypatch: Any) -> None:
    monkeypatch.setattr(ordering, "ACK_TIMEOUT_SECONDS", 0.05)

    async def scenario() -> None:
        acks = Acks()
        acks.sent(1)
        await asyncio.wait_for(acks.handed_over(0), 1)
        assert acks._acked._waiters == []  # the abandoned wait is forgotten

    asyncio.run(scenario())


def test_progress_resolves_waiters_once_a_read_started_after_their_wake_up() -> None:
    async def scenario() -> None:
        progress = Progress()
        assert not progress.behind()
        assert progress.wait().done()
        progress.woken += 1
        first = progress.wait()
        progress.woken += 1
        second = progress.wait()
        progress.reached(1)
        assert first.done() and not second.done() and progress.behind()
        progress.release()
        assert second.done() and not progress.behind()

    asyncio.run(scenario())


def test_command_lists_keep_their_newest_items_and_replay_what_was_missed() -> None:
    lists = SessionLists(FakeClock())
    session = lists.create("IS1", "alice", {"identity": "alice"})
    base = "https://cds.test"
    assert [e["event_type"] for e in session.events_after(base, 0)] == ["list_context_updated"]
    item, added = session.add(base, {"commandId": "c0"}, 1)
    assert added["event"]["id"] == 2 and item.index == 0
    updated = session.update(base, 0, {"commandId": "c0", "response": {"status": 200}}, 2)
    assert updated is not None and updated["event"]["id"] == 3
    replay = session.events_after(base, 2)
    assert [(e["event_type"], e["event"]["id"]) for e in replay] == [("list_item_updated", 3)]
    assert session.events_after(base, 1)[0]["event_type"] == "list_item_added"
    for n in range(1, MAX_ITEMS + 5):
        session.add(base, {"commandId": f"c{n}"}, 3)
    assert len(session.items) == MAX_ITEMS and 0 not in session.items
    assert session.update(base, 0, {}, 4) is None  # dropped: nothing to update


def test_command_lists_are_bounded_per_identity_and_dropped_when_idle() -> None:
    clock = FakeClock()
    lists = SessionLists(clock)
    made = [lists.create("IS1", "alice", {}) for _ in range(MAX_PER_IDENTITY + 1)]
    with pytest.raises(errors.SyncListNotFoundError):
        lists.find(made[0].sid, "IS1", "alice")
    assert lists.find(made[-1].sid, "IS1", "alice") is made[-1]
    with pytest.raises(errors.SyncAccessForbiddenError):
        lists.find(made[-1].sid, "IS1", "bob")
    clock.advance(IDLE_MS / 1000 + 1)
    lists.create("IS1", "bob", {})
    with pytest.raises(errors.SyncListNotFoundError):
        lists.find(made[-1].sid, "IS1", "alice")
    assert lists.owns(made[-1].sid) and not lists.owns("ES" + "0" * 32) and not lists.owns(5)


@pytest.mark.parametrize(
    "query",
    [
        paging.ItemQuery(start=3, page_size=7),
        paging.ItemQuery(start=0, descending=True, page_size=1, exclusive=True, before=True),
        paging.ItemQuery(start="MB0123", page_size=1000, exclusive=True),
    ],
)
def test_page_tokens_round_trip(query: paging.ItemQuery) -> None:
    kind = type(query.start)
    assert paging.decode(paging.encode(query), kind, 1000) == query
    assert set(paging.encode(query)) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )


def test_a_page_token_over_the_largest_page_is_refused() -> None:
    token = paging.encode(paging.ItemQuery(start=1, page_size=2000))
    with pytest.raises(errors.InvalidPageTokenError):
        paging.decode(token, int, 1000)

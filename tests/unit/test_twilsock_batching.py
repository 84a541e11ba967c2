"""Live Sync events joining one notification (``batching.py``), the pure parts: which clients
get batches, the bytes of a batch, and that joining keeps every object's events in order,
moves nothing past another kind of frame, loses nothing and never repeats an event."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chinwag.api.counters import GatewayCounters
from chinwag.realtime.twilsock.batching import accepts_batches, live_event
from chinwag.realtime.twilsock.codec import Notification, decode
from chinwag.realtime.twilsock.outbound import Flusher, Outbox

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("metadata", "batches"),
    [
        ({"type": "chat", "sdk": "JS", "sdkv": "6.0.0"}, True),
        ({"sdk": "JS", "sdkv": "7.1.0-rc.2"}, True),
        ({"sdk": "JS", "sdkv": "5.0.2"}, False),  # twilio-sync 1.0.0 reads `event` only
        ({"sdk": "JS", "sdkv": "3.4.0"}, False),
        ({"sdk": "my-app", "sdkv": "6.0.0"}, False),  # the app set its own: unknown client
        ({"sdk": "JS"}, False),
        ({"sdk": "JS", "sdkv": 6}, False),
        ({"sdk": "JS", "sdkv": "99999999999.0"}, False),
        ({"sdk": "JS", "sdkv": ""}, False),
        (None, False),
        ([], False),
        ("JS 6.0.0", False),
    ],
)
def test_only_twilio_chat_6_or_newer_gets_batches(metadata: Any, batches: bool) -> None:
    assert accepts_batches(metadata) is batches


def test_a_live_event_alone_is_the_notification_it_always_was() -> None:
    payload = {"event_type": "list_item_added", "event": {"list_sid": "ES1", "id": 7, "x": "é"}}
    notification = live_event("twilio.sync.event", payload, "ES1")
    notification.share("TS3", 3)
    plain = Notification("twilio.sync.event", orjson.dumps(payload))
    assert notification.shared == plain.frame("TS3")


class Written:
    """A transport that keeps what the outbox writes."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def send_frames(self, frames: list[bytes | Notification], *, one: bool = True) -> None:
        self.frames += [f.shared if isinstance(f, Notification) else f for f in frames]

    def paused(self) -> bool:
        return False

    async def drained(self) -> None:  # pragma: no cover - never paused
        return None

    async def close(self, code: int) -> None:  # pragma: no cover - never closed
        return None

    def buffered(self) -> int:
        return 0

    def abort(self, reason: str) -> None:  # pragma: no cover - never aborted
        return None

    def authenticated(self) -> None:  # pragma: no cover - not a session
        return None


#: a queued frame: a live event (its type and object) or anything else (``None``)
Step = tuple[str, str] | None
steps = st.lists(
    st.one_of(
        st.none(),
        st.tuples(st.sampled_from(["list_item_added", "document_updated"]), st.sampled_from("ab")),
        st.tuples(st.just("list_item_updated"), st.just("a")),
    ),
    max_size=30,
)


def _queue(plan: list[Step], commands: bool = False) -> list[bytes]:
    """Queue ``plan`` as a session does (join, else a frame of its own), flush, and return the
    frames written."""

    async def run() -> list[bytes]:
        written = Written()
        outbox = Outbox(written, Flusher(), GatewayCounters(), 1.0, lambda reason: None)
        outbox.batch_events()
        outbox.commands = int(commands)
        for n, step in enumerate(plan, start=1):
            if step is None:
                outbox.put(b"other %d" % n, 8)
                continue
            event_type, sid = step
            event = {"event_type": event_type, "event": {"sid": sid, "id": n}}
            notification = live_event("twilio.sync.event", event, sid)
            if outbox.joining and outbox.join(notification, 1):
                continue
            notification.share(f"TS{n}", n)
            outbox.put(notification, len(notification.shared))
        outbox.flush()
        return written.frames

    return asyncio.run(run())


def _events(frames: list[bytes]) -> list[tuple[str, str, int] | str]:
    """What the client reads, in order: each event (type, object, id), or another frame."""
    read: list[tuple[str, str, int] | str] = []
    for data in frames:
        if data.startswith(b"other"):
            read.append(data.decode())
            continue
        payload = orjson.loads(decode(data).payload)
        events = payload["events"] if "events" in payload else [payload["event"]]
        read += [(payload["event_type"], e["sid"], e["id"]) for e in events]
    return read


@settings(max_examples=300, deadline=None)
@given(steps)
def test_joining_keeps_each_objects_order_and_every_barrier(plan: list[Step]) -> None:
    read = _events(_queue(plan))
    expected = [
        (step[0], step[1], n) if step is not None else f"other {n}"
        for n, step in enumerate(plan, start=1)
    ]
    assert sorted(map(str, read)) == sorted(map(str, expected))  # nothing lost, nothing twice
    for sid in "ab":
        assert [e for e in read if e[1] == sid] == [e for e in expected if e[1] == sid]
    # between two other frames, the same events (only their order may change)
    cuts = [i for i, e in enumerate(read) if isinstance(e, str)]
    assert cuts == [i for i, e in enumerate(expected) if isinstance(e, str)]


def test_a_run_of_one_type_is_one_frame_with_the_first_events_id() -> None:
    frames = _queue([("list_item_added", "a"), ("document_updated", "b")] * 3)
    assert len(frames) == 2
    first = decode(frames[0])
    assert first.header["id"] == "TS1"
    assert orjson.loads(first.payload) == {
        "event_type": "list_item_added",
        "events": [{"sid": "a", "id": 1}, {"sid": "a", "id": 3}, {"sid": "a", "id": 5}],
    }
    assert decode(frames[1]).header["id"] == "TS2"


def test_an_event_never_moves_ahead_of_its_own_objects_earlier_event() -> None:
    plan: list[Step] = [
        ("list_item_added", "a"),
        ("list_item_updated", "a"),
        ("list_item_added", "a"),
    ]
    assert len(_queue(plan)) == 3
    assert _events(_queue(plan)) == [(t, s, n) for n, (t, s) in enumerate(plan, 1)]  # type: ignore[misc]


def test_nothing_joins_while_a_command_waits_for_its_reply() -> None:
    assert len(_queue([("list_item_added", "a")] * 4, commands=True)) == 4

"""The client door's way out and in, the pure parts: a notification framed once is the frame
each connection would have made, the WebSocket framing matches websockets' own, the socket's
look at small client frames, and the per-connection order of shared frame ids."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from chinwag.realtime.twilsock.codec import Notification, encode
from chinwag.realtime.twilsock.ordering import Acks
from chinwag.realtime.twilsock.websocket import QUICK_MAX_PAYLOAD, _small_masked, binary_message

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536, 200_000])
def test_binary_message_is_what_websockets_writes_for_a_server(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    expected = Frame(Opcode.BINARY, payload).serialize(mask=False, extensions=[])
    assert binary_message(payload) == expected


def test_a_shared_notification_is_the_frame_with_its_id() -> None:
    notification = Notification("twilio.sync.event", b'{"event_type":"list_item_added"}')
    notification.share("TS42", 42)
    header = {
        "method": "notification",
        "id": "TS42",
        "message_type": "twilio.sync.event",
        "payload_type": "application/json",
    }
    assert notification.shared == encode(header, b'{"event_type":"list_item_added"}')
    assert (notification.frame_id, notification.number) == ("TS42", 42)


def _client(payload: bytes, opcode: Opcode = Opcode.BINARY) -> bytes:
    return Frame(opcode, payload).serialize(mask=True, extensions=[])


@pytest.mark.parametrize("size", [32, 125, 126, 142, QUICK_MAX_PAYLOAD])
def test_a_small_client_frame_is_measured_whole(size: int) -> None:
    """The SDK's acknowledgement is 142 bytes: a frame with a 16-bit length."""
    data = _client(b"x" * size)
    assert _small_masked(data, 0, len(data)) == len(data)
    assert _small_masked(data + data, len(data), 2 * len(data)) == len(data)


@pytest.mark.parametrize(
    "data",
    [
        _client(b"x" * (QUICK_MAX_PAYLOAD + 1)),  # a 16-bit length, too long to be quick
        _client(b"x" * 70_000),  # a 64-bit length
        _client(b"ping", Opcode.PING),  # control frames are websockets' to answer
        Frame(Opcode.BINARY, b"unmasked").serialize(mask=False, extensions=[]),
    ],
    ids=["length16-long", "length64", "ping", "unmasked"],  # masks are random: ids must not be
)
def test_any_other_frame_is_left_to_websockets_with_its_length(data: bytes) -> None:
    assert _small_masked(data, 0, len(data)) == -len(data)


def test_a_frame_whose_header_is_not_all_here_waits() -> None:
    data = _client(b"x" * 70_000)
    assert _small_masked(data, 0, 1) == 0
    assert _small_masked(data, 0, 5) == 0  # 2 bytes, 8 of length, 4 of mask are needed
    ack = _client(b"x" * 142)  # a 16-bit length, as the SDK's acknowledgement has
    assert [_small_masked(ack, 0, end) for end in (1, 2, 3)] == [0, 0, 0]


def test_a_shared_id_is_used_only_where_it_is_the_newest() -> None:
    acks = Acks()
    assert acks.follows(5)
    acks.sent(5)
    assert not acks.follows(5) and not acks.follows(3) and acks.follows(6)
    acks.other(9)  # a client_update: later notifications must be newer than it
    assert not acks.follows(7) and acks.follows(10)
    assert acks.queued == 5  # a reply waits for notifications only

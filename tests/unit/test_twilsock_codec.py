"""The Twilsock v3 codec: every header and payload round-trips, and garbage is refused cleanly."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chinwag.realtime.twilsock.codec import (
    MAGIC,
    Frame,
    FrameError,
    Notification,
    acknowledged_number,
    decode,
    encode,
)
from chinwag.realtime.twilsock.ordering import frame_number

pytestmark = pytest.mark.unit

#: Reproducible in CI: the same examples every run, no deadline on a loaded machine.
PROFILE = settings(deadline=None, derandomize=True, database=None)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
headers = st.dictionaries(st.text(), json_values, max_size=6)


@PROFILE
@given(headers, st.binary(max_size=2048))
def test_any_header_and_payload_round_trip(header: dict[str, Any], payload: bytes) -> None:
    frame = decode(encode(header, payload))
    assert frame == Frame({**header, "payload_size": len(payload)}, payload)


#: random bytes, and random bytes after the preamble (to reach the length and header rules)
garbage = st.binary(max_size=512) | st.builds(lambda tail: MAGIC + tail, st.binary(max_size=512))


@PROFILE
@given(garbage)
def test_garbage_is_refused_with_a_frame_error(data: bytes) -> None:
    try:
        frame = decode(data)
    except FrameError as exc:
        assert exc.reason
    else:  # the rare valid frame must be exactly what re-encodes to itself
        assert decode(encode(frame.header, frame.payload)) == frame


@PROFILE
@given(headers, st.binary(max_size=64), st.data())
def test_a_damaged_frame_is_refused_or_still_consistent(
    header: dict[str, Any], payload: bytes, data: st.DataObject
) -> None:
    raw = bytearray(encode(header, payload))
    cut = data.draw(st.integers(0, len(raw) - 1))
    damaged = bytes(raw[:cut])
    with pytest.raises(FrameError):
        decode(damaged)


def test_the_wire_form_is_what_the_sdk_parser_reads() -> None:
    raw = encode({"method": "reply", "id": "TM1"}, b'{"a":1}')
    head = b'{"method":"reply","id":"TM1","payload_size":7}'
    assert raw == b'TWILSOCK V3.0 %d\r\n%s\r\n{"a":1}' % (len(head), head)


def test_a_client_frame_with_an_empty_payload_decodes() -> None:
    head = orjson.dumps({"id": "TMx", "method": "init", "token": "t", "payload_size": 0})
    frame = decode(b"TWILSOCK V3.0 %d\r\n%s\r\n" % (len(head), head))
    assert (frame.method, frame.id, frame.payload) == ("init", "TMx", b"")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "preamble"),
        (b"TWILSOCK V2.0 2\r\n{}\r\n", "preamble"),
        (b"TWILSOCK V3.0 x\r\n{}\r\n", "decimal"),
        (b"TWILSOCK V3.0 99999999999\r\n{}\r\n", "decimal"),
        (b"TWILSOCK V3.0 3\r\n{}\r\n", "CRLF"),
        (b"TWILSOCK V3.0 2\r\n[]\r\n", "object"),
        (b"TWILSOCK V3.0 2\r\n{]\r\n", "JSON"),
        (b'TWILSOCK V3.0 18\r\n{"payload_size":1}\r\n', "payload_size"),
        (b'TWILSOCK V3.0 21\r\n{"payload_size":true}\r\nx', "payload_size"),
        (b"TWILSOCK V3.0 2\r\n{}\r\ntrailing", "payload_size"),
    ],
)
def test_each_broken_rule_names_itself(data: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        decode(data)


@PROFILE
@given(st.text(), st.integers(0, 10**12), st.binary(max_size=2048))
def test_a_notification_encoded_once_is_the_frame_encode_writes(
    message_type: str, number: int, payload: bytes
) -> None:
    frame_id = f"TS{number}"
    header = {
        "method": "notification",
        "id": frame_id,
        "message_type": message_type,
        "payload_type": "application/json",
    }
    notification = Notification(message_type, payload)
    assert notification.frame(frame_id) == encode(header, payload)
    assert notification.size(frame_id) == len(encode(header, payload))  # counted, not made


def _sdk_ack(frame_id: str) -> bytes:
    """The twilio-chat SDK's acknowledgement: its ``Reply`` message's keys in their order
    (twilsock reply.js), ``payload_size`` added by its parser (parser.js), as JSON.stringify."""
    header = {"id": frame_id, "method": "reply", "payload_type": "application/json"}
    header["status"] = {"code": 200, "status": "OK"}  # type: ignore[assignment]
    header["payload_size"] = 0  # type: ignore[assignment]
    head = orjson.dumps(header)
    return MAGIC + str(len(head)).encode() + b"\r\n" + head + b"\r\n"


@pytest.mark.parametrize("frame_id", ["TS1", "TS123456", "TS" + "9" * 18])
def test_the_sdks_acknowledgement_is_read_without_json(frame_id: str) -> None:
    data = _sdk_ack(frame_id)
    assert f"TS{acknowledged_number(data)}" == frame_id == decode(data).id


@PROFILE
@given(st.integers(1, 10**18 - 1), st.data())
def test_an_acknowledgement_read_quickly_is_what_decode_reads(
    number: int, data: st.DataObject
) -> None:
    """Damaged (cut, or one byte changed), the bytes are refused or still mean what decode says:
    the quick reading never accepts a frame the codec would refuse or read otherwise."""
    raw = bytearray(_sdk_ack(f"TS{number}"))
    at = data.draw(st.integers(0, len(raw) - 1))
    if data.draw(st.booleans()):
        raw[at] = data.draw(st.integers(0, 255))
        damaged = bytes(raw)
    else:
        damaged = bytes(raw[:at])
    quick = acknowledged_number(damaged)
    if quick is not None:
        frame = decode(damaged)
        assert (frame.method, frame_number(frame.id), frame.payload) == ("reply", quick, b"")


@pytest.mark.parametrize(
    "data",
    [
        encode({"method": "reply", "id": "TS12"}),  # another shape: decode reads it
        _sdk_ack("TM12"),  # not a server frame id
        _sdk_ack("TS" + "9" * 19),
        _sdk_ack("TS12").replace(MAGIC + b"11", MAGIC + b"12"),  # a header length off by 10
    ],
    ids=["other-shape", "client-id", "too-long", "wrong-length"],
)
def test_anything_else_is_left_to_decode(data: bytes) -> None:
    assert acknowledged_number(data) is None

"""Twilsock v3 frames, pure: bytes in, :class:`Frame` out, and back.

One WebSocket binary message holds one frame::

    TWILSOCK V3.0 <H>\\r\\n<header JSON object, exactly H bytes>\\r\\n<payload, payload_size bytes>

``H`` is the header's UTF-8 byte length in decimal; ``payload_size`` is a header field. The SDK's
parser (twilsock ``parser.js``) reads exactly that, so :func:`encode` writes it and sets
``payload_size`` itself. :func:`decode` is strict, because everything after it trusts the frame:
any other byte sequence raises :class:`FrameError`, never another exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

MAGIC = b"TWILSOCK V3.0 "
CRLF = b"\r\n"
#: the header length is at most this many decimal digits (a 10 GB header is already refused)
_MAX_LENGTH_DIGITS = 10
#: the twilio-chat SDK's acknowledgement of server frame ``TS<n>``, byte for byte (twilsock
#: ``reply.js`` and ``parser.js``: this key order, an empty payload), before and after ``<n>``
_ACK_HEAD = b'{"id":"TS'
_ACK_TAIL = (
    b'","method":"reply","payload_type":"application/json",'
    b'"status":{"code":200,"status":"OK"},"payload_size":0}\r\n'
)
_ACK_AFTER_LENGTH = CRLF + _ACK_HEAD
#: where ``<n>`` starts: after the preamble, a three-digit header length and CRLF
_ACK_DIGITS = len(MAGIC) + 3 + len(_ACK_AFTER_LENGTH)
#: the header's length without ``<n>``
_ACK_FIXED = len(_ACK_HEAD) + len(_ACK_TAIL) - len(CRLF)
#: server frame numbers (``TS<n>``) have at most this many digits; no more is read of a client's
MAX_ID_DIGITS = 18
#: the header length an acknowledgement declares, by the number of digits of ``<n>``
_ACK_LENGTHS = [b"%d" % (_ACK_FIXED + n) for n in range(MAX_ID_DIGITS + 1)]


class FrameError(ValueError):
    """The bytes are not a Twilsock v3 frame; ``reason`` says which rule they broke."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded frame: the header object (``payload_size`` included) and the raw payload."""

    header: dict[str, Any]
    payload: bytes = b""

    @property
    def method(self) -> str | None:
        method = self.header.get("method")
        return method if isinstance(method, str) else None

    @property
    def id(self) -> str | None:
        ident = self.header.get("id")
        return ident if isinstance(ident, str) else None


def encode(header: Mapping[str, Any], payload: bytes = b"") -> bytes:
    """The frame for ``header`` and ``payload``; ``payload_size`` is set from the payload."""
    head = orjson.dumps({**header, "payload_size": len(payload)})
    return b"".join((MAGIC, str(len(head)).encode(), CRLF, head, CRLF, payload))


class Notification:
    """A ``notification`` frame encoded once and sent on many connections.

    Frames differ between connections only in their ``id``, so everything after it (the rest
    of the header and the payload) is encoded once, and :meth:`frame` only splices in the id.
    One Sync event fanned out to a thousand subscribers is then one JSON encoding, not a
    thousand. The bytes equal :func:`encode` of ``{"method": "notification", "id": …,
    "message_type": …, "payload_type": "application/json"}`` with the payload.

    Once :meth:`share` gave it an id, the frame is the same bytes for every connection that
    can take that id (the session decides: ids must grow on each connection), made once:
    :attr:`shared`; and :attr:`wire`, the same frame as the WebSocket layer sends it
    uncompressed, is kept here by the first connection that writes it, for the others.
    """

    __slots__ = (
        "_fixed",
        "_tail",
        "batchable",
        "frame_id",
        "message_type",
        "number",
        "shared",
        "wire",
    )

    _HEAD = b'{"method":"notification","id":'

    def __init__(self, message_type: str, payload: bytes) -> None:
        self.message_type = message_type
        rest = orjson.dumps(
            {
                "message_type": message_type,
                "payload_type": "application/json",
                "payload_size": len(payload),
            }
        )
        #: the header after the id (``,"message_type":…}``), CRLF and the payload
        self._tail = b"," + rest[1:] + CRLF + payload
        self._fixed = len(self._HEAD) + len(rest)
        #: the id every connection may use, once shared (its number: 0 before), and the frame
        self.frame_id: str | None = None
        self.number = 0
        self.shared: bytes = b""
        #: :attr:`shared` framed for the WebSocket, uncompressed (set by the socket layer)
        self.wire: bytes | None = None
        #: a live Sync event's type, its event JSON and its object's SID, when this
        #: notification may join a batch of events (``batching.py``)
        self.batchable: tuple[str, bytes, str] | None = None

    def share(self, frame_id: str, number: int) -> None:
        """Give the notification one id for every connection (``number`` orders the ids of
        one connection), and make its frame once."""
        self.frame_id = frame_id
        self.number = number
        self.shared = self.frame(frame_id)

    def size(self, frame_id: str) -> int:
        """The length of :meth:`frame`'s bytes, without making them."""
        quoted = len(frame_id) + 2
        head = len(str(self._fixed + quoted))
        return len(MAGIC) + head + len(CRLF) + len(self._HEAD) + quoted + len(self._tail)

    def frame(self, frame_id: str) -> bytes:
        """The frame with ``frame_id``, which must need no JSON escaping (server ids do not)."""
        ident = frame_id.encode()
        length = str(self._fixed + len(ident) + 2).encode()
        return b"".join((MAGIC, length, CRLF, self._HEAD, b'"', ident, b'"', self._tail))


def decode(data: bytes) -> Frame:
    """Parse one frame, or raise :class:`FrameError`."""
    if not data.startswith(MAGIC):
        raise FrameError("missing TWILSOCK V3.0 preamble")
    end = data.find(CRLF, len(MAGIC), len(MAGIC) + _MAX_LENGTH_DIGITS + 1)
    digits = data[len(MAGIC) : end] if end >= 0 else b""
    if not digits or not digits.isdigit():
        raise FrameError("header length is not a decimal number followed by CRLF")
    start = end + len(CRLF)
    header_end = start + int(digits)
    if data[header_end : header_end + len(CRLF)] != CRLF:
        raise FrameError("header is not followed by CRLF at its declared length")
    try:
        header = orjson.loads(data[start:header_end])
    except orjson.JSONDecodeError:
        raise FrameError("header is not valid JSON") from None
    if not isinstance(header, dict):
        raise FrameError("header is not a JSON object")
    payload = data[header_end + len(CRLF) :]
    size = header.get("payload_size", 0)
    if type(size) is not int or size != len(payload):
        raise FrameError("payload_size does not match the payload")
    return Frame(header, payload)


def acknowledged_number(data: bytes) -> int | None:
    """``n`` of the server frame ``TS<n>`` that a client's ``reply`` in the SDK's exact form
    acknowledges, read with byte comparisons alone: the SDK acknowledges every notification,
    so a fan-out to many clients reads as many of these (under 1 µs each here, against 5 µs
    through :func:`decode`). ``None`` for any other bytes, which :func:`decode` judges."""
    if not data.endswith(_ACK_TAIL) or not data.startswith(MAGIC):
        return None
    start = len(MAGIC) + 3
    if data[start:_ACK_DIGITS] != _ACK_AFTER_LENGTH:
        return None
    digits = data[_ACK_DIGITS : -len(_ACK_TAIL)]
    if not digits.isdigit() or len(digits) > MAX_ID_DIGITS:
        return None
    if data[len(MAGIC) : start] != _ACK_LENGTHS[len(digits)]:
        return None
    return int(digits)

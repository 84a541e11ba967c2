"""The WebSocket under the client gateway: uvicorn's protocol, with closes that never wait.

uvicorn's WebSocket protocol closes a socket with ``transport.close()``, which first waits
until every buffered byte has been taken by the peer. A client that stops reading is then
never dropped: not after a ping timeout, not after the gateway's own ``close``, not on
shutdown. :class:`GatewaySocket` changes three things and keeps the rest of uvicorn's:

- **Every close is bounded.** A peer that does not answer a WebSocket close within
  ``write_timeout`` seconds (uvicorn waits 10 s, then waits again for the buffer to drain) is
  reset (``SO_LINGER`` 0), so neither this process nor the kernel keeps its unsent bytes; any
  other close whose buffered bytes the peer has not taken within ``write_timeout`` becomes
  such an abort too. A ping left unanswered aborts at once: nothing more is owed to a peer
  that is gone. A peer that pings without reading the pongs is dropped once
  ``max_buffered_bytes`` wait for it.
- **Bounded kernel buffers.** A client socket's send buffer is a quarter of the byte budget
  (``gateway_max_buffered_bytes``), not the megabytes Linux would let a client that does not
  read fill.
- **Small messages before init.** Until the gateway says the client authenticated
  (:meth:`GatewaySocket.authenticated`), a message may be at most ``init_max_frame_bytes``
  (an init is a token and a few fields), so a socket that never authenticates cannot make the
  process buffer a megabyte for it. After init the limit is ``ws_max_size``
  (``gateway_max_frame_bytes``).
- **Frames are written straight to the transport.** :meth:`GatewaySocket.send_frames` takes
  a batch of Twilsock frames and writes them as one write. A server frame is unmasked, so
  without compression its bytes are the same on every connection: a notification fanned out
  is framed once (its ``wire``) and the same bytes go to each transport, without uvicorn's
  ASGI ``send`` or websockets' framing per frame and per connection. With permessage-deflate
  (``gateway_compression``) each connection compresses with its own state, through
  websockets, still in one write.
- **Acknowledgements skip websockets and ASGI.** The SDK acknowledges every notification;
  small final binary frames (up to :data:`QUICK_MAX_PAYLOAD` bytes) are read here and
  offered to the session as they arrive (:meth:`GatewaySocket.take_quickly`), without
  websockets' parser, a queue, a task switch and a pause of reading for each; the SDK's
  own acknowledgements are recognised by their bytes, a run of them is one call. Any other
  frame goes to websockets whole and in order. After a read of acknowledgements only, the
  socket rests from reading for :data:`ACK_REST` seconds: the SDK sends each in a TCP segment
  of its own, and read as they come each costs a system call and a turn of the loop.
- **The gateway can reach the socket.** The ASGI scope's extension :data:`EXTENSION` is the
  :class:`GatewaySocket` itself (the :class:`Socket` protocol below): its outbound backlog
  (:meth:`~GatewaySocket.buffered`) and :meth:`~GatewaySocket.abort`.

:func:`websocket_options` gives uvicorn this protocol and the gateway's socket settings;
``chinwag serve`` and :class:`~chinwag.testing.server.ThreadedServer` both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import logging
import socket
import struct
import termios
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import apply_mask  # type: ignore[attr-defined]
from websockets.http11 import Request
from websockets.protocol import State

from chinwag.config import Settings
from chinwag.realtime.twilsock.codec import Notification, acknowledged_number

log = logging.getLogger(__name__)

#: the ASGI scope extension holding the :class:`Socket` of a gateway connection
EXTENSION = "chinwag.socket"

_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 seconds: close() sends RST, drops the buffer


class Taker(Protocol):
    """What a session takes from its socket as the bytes arrive, before websockets' parser."""

    def acknowledged(self, number: int, count: int) -> None:
        """``count`` acknowledgements in the SDK's exact form were read, the newest of server
        frame ``TS<number>`` (one call for every run of them in one read)."""
        ...

    def receive_quickly(self, data: bytes) -> bool:
        """Handle any other small message now if it can be (True); else websockets reads it."""
        ...


class Socket(Protocol):
    """What the gateway needs of the socket under a session."""

    #: why the socket aborted itself (``ping_timeout``, ``close_timeout``), if it did
    aborted: str | None

    def buffered(self) -> int:
        """Bytes written to the socket that the peer has not taken yet (this process's side)."""
        ...

    def abort(self, reason: str) -> None:
        """Drop the connection now, whatever is unsent."""
        ...

    def authenticated(self) -> None:
        """The client completed init: it may send messages up to the full frame limit."""
        ...

    def send_frames(self, frames: Sequence[bytes | Notification], *, one: bool = True) -> None:
        """Write Twilsock frames, in order, in one write or one each (``OSError`` once
        closing)."""
        ...

    def take_quickly(self, taker: Taker | None) -> None:
        """Offer small messages to ``taker`` as they are read; a message it takes never
        becomes an ASGI ``receive``."""
        ...

    def paused(self) -> bool:
        """The transport's buffer is over its high-water mark: the client is behind."""
        ...

    async def drained(self) -> None:
        """Until the transport's buffer is back under its low-water mark."""
        ...


@dataclass(frozen=True)
class SocketLimits:
    write_timeout: float
    init_max_frame_bytes: int
    #: unsent bytes past which a ping is not answered but the connection dropped
    max_buffered_bytes: int

    @property
    def send_buffer(self) -> int:
        """The kernel's send buffer of a client socket: a quarter of the byte budget. Left to
        itself Linux grows it to 4 MiB, which a client that stops reading keeps full."""
        return self.max_buffered_bytes // 4


class _BoundedClose:
    """The transport as uvicorn's protocol sees it: ``close()`` that becomes an abort when the
    peer does not take the buffered bytes in time. Everything else is the transport's."""

    def __init__(self, transport: asyncio.Transport, owner: GatewaySocket) -> None:
        self._transport = transport
        self._owner = weakref.ref(owner)  # no cycle: a closed connection is freed at once

    def close(self) -> None:
        owner = self._owner()
        if owner is None:
            self._transport.close()
            return
        owner.close_when_taken()
        owner.abort_later("close_timeout")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GatewaySocket(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol with bounded closes and a pre-init message limit."""

    def __init__(self, *args: Any, limits: SocketLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.aborted: str | None = None
        self.close_timeout = limits.write_timeout
        self._full_size = self.conn.max_size
        if self._full_size is not None:
            self.conn.max_size = min(limits.init_max_frame_bytes, self._full_size)
        self._reaper: asyncio.TimerHandle | None = None
        self._closing = False
        self._quick: Taker | None = None
        #: bytes of a frame not complete yet, held back from websockets' parser
        self._held = b""
        #: bytes of the current frame that go to websockets as they arrive
        self._through = 0
        #: reading paused for a moment after a read of acknowledgements only
        self._resting = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:  # the kernel would grow it to megabytes for a client not reading
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.limits.send_buffer)
        self._raw = cast(asyncio.Transport, transport)  # for buffered(), called per frame
        self.transport = cast(asyncio.Transport, _BoundedClose(self._raw, self))

    def connection_lost(self, exc: Exception | None) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        super().connection_lost(exc)
        # Cycles a dropped connection would leave for the garbage collector: websockets' frame
        # parser is a generator holding its protocol, and the scope holds this socket. With a
        # thousand clients dropped, one collection would walk them all at once; broken here,
        # the connection is freed when its last reference goes.
        self.conn.parser.close()
        self._quick = None
        scope = getattr(self, "scope", None)  # only an accepted handshake has one
        if scope is not None:
            scope["extensions"].pop(EXTENSION, None)

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if self.response.status_code == 101:
            extensions = cast(dict[str, Any], self.scope["extensions"])
            extensions[EXTENSION] = self

    # --- the gateway's view (Socket) ---------------------------------------------------------

    def send_frames(self, frames: Sequence[bytes | Notification], *, one: bool = True) -> None:
        """Write Twilsock frames as binary messages, in one write (``one``) or one write each.
        ``OSError`` when the connection is closing or gone (nothing more may be sent on it)."""
        if self.disconnected or self.close_sent or self.conn.state is not State.OPEN:
            raise OSError("the client connection is closed")
        if self.conn.extensions:  # compressed: per connection, through websockets
            for frame in frames:
                data = frame.shared if isinstance(frame, Notification) else frame
                self.conn.send_binary(data)
            written = self.conn.data_to_send()
        else:
            written = [_wire(frame) for frame in frames]
        if one:
            self._raw.write(b"".join(written))
        else:
            for data in written:
                self._raw.write(data)

    def paused(self) -> bool:
        return not self.writable.is_set()

    def take_quickly(self, taker: Taker | None) -> None:
        self._quick = taker

    def data_received(self, data: bytes) -> None:
        """Small messages the session can handle at once (acknowledgements) are taken here,
        before websockets parses them: the SDK acknowledges every notification, and through
        websockets and ASGI each would cost a frame parser's turn, a queue, a task switch and a
        pause and resume of reading. Every other frame, and every byte once the connection is
        closing, goes to websockets whole and in order, so its parser always starts on a frame
        boundary."""
        if self._quick is None and not self._held:
            super().data_received(data)
            return
        buf = self._held + data if self._held else data
        pos, end = 0, len(buf)
        taker = self._taker()
        # the run of acknowledgements read since the last frame that went elsewhere: it
        # reaches the session before that frame does
        newest = count = 0
        took_other = False
        while pos < end:
            if self._through:  # the rest of a frame websockets is reading
                took_other = True
                take = min(self._through, end - pos)
                self._through -= take
                super().data_received(buf[pos : pos + take])
                pos += take
                taker = self._taker()
                continue
            if taker is None:
                super().data_received(buf[pos:])
                pos = end
                break
            size = _small_masked(buf, pos, end)
            if size == 0 or pos + size > end:  # the header, or a small frame, is not all here
                break
            payload = b""
            if size > 0:
                mask = pos + (2 if size < _EXTENDED else 4)  # after the 16-bit length, if any
                payload = apply_mask(buf[mask + 4 : pos + size], buf[mask : mask + 4])
                number = acknowledged_number(payload)
                if number is not None:
                    count += 1
                    if number > newest:
                        newest = number
                    pos += size
                    continue
            took_other = True
            if count:
                taker.acknowledged(newest, count)
                newest = count = 0
            if size > 0 and taker.receive_quickly(payload):  # an acknowledgement of another form
                pos += size
                continue
            self._through = abs(size)  # websockets reads this one
        if count and taker is not None:
            taker.acknowledged(newest, count)
            if pos == end and not took_other:
                self._rest_reading()
        self._held = buf[pos:] if pos < end else b""

    def _rest_reading(self) -> None:
        """After a read of acknowledgements only, read this socket again in :data:`ACK_REST`
        seconds: the SDK sends each acknowledgement in a TCP segment of its own, and what
        arrives meanwhile is then read, and answered by the kernel, at once."""
        if self._resting or self.read_paused or self.disconnected:
            return
        self._resting = True
        self._raw.pause_reading()
        self.loop.call_later(ACK_REST, self._wake_reading)

    def _wake_reading(self) -> None:
        self._resting = False
        if not self.read_paused and not self.disconnected:  # uvicorn's own pause stays
            self._raw.resume_reading()

    def _taker(self) -> Taker | None:
        """The session while frames may be offered to it (none once closing)."""
        if self.close_sent or self.conn.state is not State.OPEN:
            return None
        return self._quick

    async def drained(self) -> None:
        await self.writable.wait()

    def buffered(self) -> int:
        return 0 if self.disconnected else self._raw.get_write_buffer_size()

    def authenticated(self) -> None:
        self.conn.max_size = self._full_size

    def abort(self, reason: str) -> None:
        if self.disconnected or self.aborted is not None:
            return
        self.aborted = reason
        log.info("dropping client connection %s: %s", _peer(self.client), reason)
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):  # already gone: the abort still releases it
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
        self.transport.abort()

    def close_when_taken(self) -> None:
        """Close once the peer has taken every byte the kernel holds for it; reset the
        connection (:meth:`abort`) if it has not within ``write_timeout``.

        A plain close hands the unsent bytes to the kernel and forgets the connection: the
        kernel then keeps probing a peer that reads nothing (a zero window) for many minutes,
        and that peer never sees its connection end."""
        if self._closing:
            return
        self._closing = True
        self._close_when_taken(self.loop.time() + self.limits.write_timeout)

    def _close_when_taken(self, deadline: float) -> None:
        if self.disconnected or self.aborted is not None:
            return
        if _unsent(self._raw) == 0:
            self._raw.close()
        elif self.loop.time() >= deadline:
            self.abort("close_timeout")
        else:
            self.loop.call_later(_CLOSE_POLL, self._close_when_taken, deadline)

    def abort_later(self, reason: str) -> None:
        """Abort in ``write_timeout`` seconds unless the connection is gone by then."""
        if self._reaper is None and not self.disconnected:
            self._reaper = self.loop.call_later(
                self.limits.write_timeout, functools.partial(self.abort, reason)
            )

    # --- uvicorn's, changed --------------------------------------------------------------------

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.close" and self.close_timer is not None:
            # uvicorn then waits for the peer's close and closes gracefully, behind whatever the
            # peer has not read; a peer that does not answer in time is reset instead
            self.close_timer.cancel()
            self.close_timer = self.loop.call_later(
                self.close_timeout, functools.partial(self.abort, "close_timeout")
            )

    def handle_ping(self) -> None:
        """uvicorn answers every ping at once; a client that sends pings and reads nothing would
        make this process buffer pongs without end."""
        if self.transport.get_write_buffer_size() > self.limits.max_buffered_bytes:
            self.abort("slow_consumer")
        else:
            super().handle_ping()

    def keepalive_timeout(self) -> None:
        """No pong in time: the peer is gone or not reading; there is no one to say goodbye to."""
        self.pong_timer = None
        self.pending_ping_payload = None
        self.abort("ping_timeout")


#: the largest payload :func:`_small_masked` offers to the session: the SDK's acknowledgement
#: is 142 bytes for an id of eight characters (over 125: a frame with a 16-bit length)
QUICK_MAX_PAYLOAD = 512
#: seconds a socket rests from reading after a read of acknowledgements only: long enough for
#: the acknowledgements of one write of frames to gather (measured: 2 ms makes a delivery to
#: SDK clients cost 40 % less CPU; docs/performance.md), short against a chat command's wait
ACK_REST = 0.002
#: a small frame this long or longer has a 16-bit length (a payload of 126 bytes or more)
_EXTENDED = 8 + 126


def _small_masked(buf: bytes, pos: int, end: int) -> int:
    """The length of the client frame at ``pos`` if it is one the session may take at once: a
    final, masked, uncompressed binary frame of at most :data:`QUICK_MAX_PAYLOAD` bytes of
    payload. Negative: the length of any other frame (websockets reads it); 0: its header is
    not all here yet."""
    if end - pos < 2 or (end - pos < 4 and buf[pos + 1] & 0x7F == 126):
        return 0  # not even the 16-bit length is here
    first, second = buf[pos], buf[pos + 1]
    if first == 0x82 and second == 0xFE:  # the SDK's acknowledgement: masked, 16-bit length
        length = buf[pos + 2] << 8 | buf[pos + 3]
        return 8 + length if length <= QUICK_MAX_PAYLOAD else -(8 + length)
    length = second & 0x7F
    if first == 0x82 and second & 0x80 and length < 126:
        return 6 + length
    head = 2 + (2 if length == 126 else 8 if length == 127 else 0) + (4 if second & 0x80 else 0)
    if end - pos < head:
        return 0
    if length == 126:
        length = buf[pos + 2] << 8 | buf[pos + 3]
    elif length == 127:
        length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
    return -(head + length)


def _wire(frame: bytes | Notification) -> bytes:
    """A binary WebSocket message from the server (final, unmasked, uncompressed); a
    notification's is made once and kept on it for every other connection."""
    if isinstance(frame, Notification):
        wire = frame.wire
        if wire is None:
            wire = frame.wire = binary_message(frame.shared)
        return wire
    return binary_message(frame)


def binary_message(payload: bytes) -> bytes:
    """RFC 6455 framing of one unfragmented, unmasked binary message."""
    size = len(payload)
    if size < 126:
        return bytes((0x82, size)) + payload
    if size < 65_536:
        return struct.pack("!BBH", 0x82, 126, size) + payload
    return struct.pack("!BBQ", 0x82, 127, size) + payload


#: how often a closing connection looks whether the peer has taken its bytes (seconds)
_CLOSE_POLL = 0.05


def _unsent(transport: asyncio.Transport) -> int:
    """Bytes not yet taken by the peer: the transport's buffer and the kernel's send queue
    (Linux ``TIOCOUTQ``: unsent and unacknowledged)."""
    queued = transport.get_write_buffer_size()
    sock = transport.get_extra_info("socket")
    if sock is None:
        return queued
    try:
        raw = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except OSError:  # already closed: nothing more will go out
        return queued
    return queued + int(struct.unpack("i", raw)[0])


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "(unknown)"


def websocket_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's WebSocket options for the client gateway.

    The protocol is a ``functools.partial`` of a module-level class, so it pickles into worker
    processes.
    """
    limits = SocketLimits(
        write_timeout=settings.gateway_write_timeout,
        init_max_frame_bytes=settings.gateway_init_max_frame_bytes,
        max_buffered_bytes=settings.gateway_max_buffered_bytes,
    )
    return {
        "ws": functools.partial(GatewaySocket, limits=limits),
        "ws_max_size": settings.gateway_max_frame_bytes,
        "ws_per_message_deflate": settings.gateway_compression,
        "ws_ping_interval": settings.gateway_ping_interval,
        "ws_ping_timeout": settings.gateway_ping_timeout,
    }

"""A WebSocket client over a raw socket, for clients no library would be: ones that never read,
never answer pings, or speak from many addresses.

:class:`RawWebSocket` does the handshake and sends masked binary frames itself; reading is
explicit, so a test decides whether the client reads at all. :meth:`RawWebSocket.gone_within`
notices the server dropping the connection without reading a byte (``poll`` reports a reset
or a close whatever is unread).
"""

from __future__ import annotations

import base64
import contextlib
import os
import select
import socket
import struct
import time
from dataclasses import dataclass

from websockets.frames import Frame, Opcode

from chinwag.realtime.twilsock.codec import Frame as TwilsockFrame
from chinwag.realtime.twilsock.codec import decode

_GONE = select.POLLHUP | select.POLLERR | select.POLLRDHUP


@dataclass
class Handshake:
    status: int
    headers: dict[str, str]
    body: bytes


class RawWebSocket:
    def __init__(
        self,
        address: tuple[str, int],
        *,
        source: str | None = None,
        receive_buffer: int | None = None,
        path: str = "/v3/wsconnect",
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:  # before connect, so the window stays this small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        if source is not None:
            self.sock.bind((source, 0))
        self.sock.settimeout(10)
        self.sock.connect(address)
        self.path = path
        self.host = f"{address[0]}:{address[1]}"
        self._buffer = b""

    def handshake(self) -> Handshake:
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        while b"\r\n\r\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self._buffer += chunk
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        status = int(lines[0].split(" ")[1])
        body = b""
        if status != 101:
            length = int(headers.get("content-length", "0"))
            while len(self._buffer) < length:
                self._buffer += self.sock.recv(65536)
            body, self._buffer = self._buffer[:length], self._buffer[length:]
        return Handshake(status, headers, body)

    def open(self) -> RawWebSocket:
        answer = self.handshake()
        assert answer.status == 101, answer
        return self

    def send(self, data: bytes, opcode: Opcode = Opcode.BINARY) -> None:
        self.sock.sendall(Frame(opcode, data).serialize(mask=True))

    def try_send(self, data: bytes) -> bool:
        """Send unless the server has dropped the connection (False then)."""
        try:
            self.send(data)
        except OSError:
            return False
        return True

    def _read_exact(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the server")
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def recv_frame(self, timeout: float = 10) -> tuple[int, bytes]:
        """The next WebSocket frame (opcode, payload); pings are answered, not returned."""
        self.sock.settimeout(timeout)
        while True:
            first, second = self._read_exact(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read_exact(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read_exact(8))
            payload = self._read_exact(length)
            opcode = first & 0x0F
            if opcode == Opcode.PING:
                self.send(payload, Opcode.PONG)
                continue
            return opcode, payload

    def recv(self, timeout: float = 10) -> TwilsockFrame:
        """The next Twilsock frame; a WebSocket close raises with its code."""
        opcode, payload = self.recv_frame(timeout)
        if opcode == Opcode.CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if payload else 1005
            raise ClosedError(code)
        return decode(payload)

    def gone_within(self, seconds: float) -> float | None:
        """Seconds until the server dropped or closed the connection (nothing is read), or
        None if it is still open after ``seconds``."""
        poller = select.poll()
        poller.register(self.sock, _GONE)
        start = time.monotonic()
        while (left := seconds - (time.monotonic() - start)) > 0:
            if poller.poll(left * 1000):
                return time.monotonic() - start
        return None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> RawWebSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ClosedError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"WebSocket closed with {code}")
        self.code = code

"""Bench clients for ``sync_bench.py``: many Twilsock connections on raw sockets, in their own
process, as cheap per received frame as Python allows.

The SDK proves that delivery is correct (``tests/realtime``); this process only has to hold the
connections and count what arrives, without taking the CPU the server needs. Each connection
does the WebSocket handshake itself, sends ``init`` and a ``/v4/Subscriptions`` establish for
one messages list, then parses only WebSocket frame headers: a frame counts as a delivery when
its bytes contain ``list_item_added`` (a byte search, no JSON decoding). Pings are answered.
Connections in ``record`` mode (the latency client) also decode each event's ``item_index``.

Clients can also connect **as the SDK does** (``sdk`` in the first line): the handshake
offers permessage-deflate (as ``ws`` in Node and every browser do) and compressed frames are
inflated, the channel's document is subscribed to besides its messages list, and every
server frame is acknowledged with a ``reply``. Only ``list_item_added`` counts as a delivery.
The init carries the metadata twilio-chat 6 sends, so the server may put several events in one
notification (``events``), as it does for the SDK: each event in it counts.

It is driven over stdin/stdout, one JSON object a line::

    parent -> {"host", "port", "path", "list_sid", "tokens": [...], "record": bool,
               "sdk": bool, "document_sid": str | null}
    swarm  -> {"ready": n}                        every connection subscribed
    parent -> {"cmd": "expect", "count": k, "timeout": s}
    swarm  -> {"armed": true}                     counting from zero now
    swarm  -> {"complete", "deliveries", "first", "last", "cpu_s", "lost"}   when each
              connection has k more deliveries (or at the timeout); times are
              ``time.perf_counter()``, the system's monotonic clock, which the parent
              reads too; ``lost``: connections the server closed
    parent -> {"cmd": "arrivals"}
    swarm  -> {"arrivals": {index: time}}         what record-mode connections received
    parent -> {"cmd": "quit"}
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import resource
import sys
import time
import zlib
from typing import Any

import orjson
import uvloop

MAGIC = b"TWILSOCK V3.0 "
ADDED = b'"list_item_added"'
#: once in each list item event
INDEX = b'"item_index":'
#: what twilio-chat 6.0.0 puts in its init (twilsock ``metadata.js``, twilio-chat ``client.js``)
SDK_METADATA = {"env": "Node.js", "os": "Linux", "type": "chat", "sdk": "JS", "sdkv": "6.0.0"}
ESTABLISHED = b'"subscription_established"'
#: what permessage-deflate strips from the end of each compressed message (RFC 7692)
TAIL = b"\x00\x00\xff\xff"


def frame(header: dict[str, Any], payload: bytes = b"") -> bytes:
    """A Twilsock frame (the codec's layout, kept here so the swarm imports nothing of chinwag)."""
    head = orjson.dumps({**header, "payload_size": len(payload)})
    return MAGIC + str(len(head)).encode() + b"\r\n" + head + b"\r\n" + payload


def ws_binary(data: bytes, opcode: int = 0x2) -> bytes:
    """A masked client WebSocket frame (the mask key is zero: the payload goes as is)."""
    size = len(data)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 1 << 16:
        head = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    return head + b"\0\0\0\0" + data


def ack(data: bytes | bytearray, start: int, end: int) -> bytes | None:
    """The SDK's ``reply`` to a server frame (a notification, a ``client_update``)."""
    at = data.find(b'"id":"', start, end)
    if at < 0 or data.find(b'"method":"reply"', start, end) >= 0:
        return None
    close = data.find(b'"', at + 6, end)
    # the SDK's bytes exactly (twilsock reply.js, parser.js): this key order, 142 bytes for an
    # id of eight characters, so over 125 bytes: a WebSocket frame with a 16-bit length
    reply = {"id": bytes(data[at + 6 : close]).decode(), "method": "reply"}
    reply["payload_type"] = "application/json"
    reply["status"] = {"code": 200, "status": "OK"}  # type: ignore[assignment]
    return ws_binary(frame(reply))


class Connection(asyncio.Protocol):
    """One client socket: handshake, subscribe, then count ``list_item_added`` frames."""

    def __init__(self, swarm: Swarm, record: bool, sdk: bool = False) -> None:
        self.swarm = swarm
        self.record = record
        self.sdk = sdk
        #: permessage-deflate, when the server accepted the offer
        self.inflate: Any = None
        self.buffer = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.established = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.count = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed during the handshake"))
        if not self.established.done():
            reason = ConnectionError(f"closed before subscribing: {bytes(self.buffer[:300])!r}")
            self.established.set_exception(reason)
        self.swarm.lost += 1

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        if not self.upgraded.done():
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                raise SystemExit(f"handshake refused: {bytes(buf[:80])!r}")
            if self.sdk and buf.find(b"permessage-deflate", 0, end) >= 0:
                self.inflate = zlib.decompressobj(wbits=-15)
            del buf[: end + 4]
            self.upgraded.set_result(None)
        pos, size = 0, len(buf)
        while size - pos >= 2:
            length = buf[pos + 1] & 0x7F
            start = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(buf[start : start + 2], "big")
                start += 2
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buf[start : start + 8], "big")
                start += 8
            end = start + length
            if end > size:
                break
            opcode = buf[pos] & 0x0F
            if opcode == 0x2 and self.sdk:
                self.sdk_message(buf[pos] & 0x40, buf, start, end)
            elif opcode == 0x2:
                if buf.find(ADDED, start, end) >= 0:
                    self.swarm.delivered(self, buf, start, end, 1)
                elif not self.established.done() and buf.find(ESTABLISHED, start, end) >= 0:
                    self.established.set_result(None)
            elif opcode == 0x9 and self.transport is not None:
                self.transport.write(ws_binary(bytes(buf[start:end]), opcode=0xA))
            pos = end
        del buf[:pos]

    def sdk_message(self, compressed: int, buf: bytearray, start: int, end: int) -> None:
        """A message read as the SDK reads it: inflated if compressed, then acknowledged."""
        if compressed:
            data: bytes | bytearray = self.inflate.decompress(bytes(buf[start:end]) + TAIL)
            start, end = 0, len(data)
        else:
            data = buf
        if data.find(ADDED, start, end) >= 0:
            self.swarm.delivered(self, data, start, end, data.count(INDEX, start, end))
        elif not self.established.done() and data.find(ESTABLISHED, start, end) >= 0:
            self.established.set_result(None)
        reply = ack(data, start, end)
        if reply is not None and self.transport is not None:
            self.transport.write(reply)


class Swarm:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.connections: list[Connection] = []
        self.lost = 0
        self.target = 0
        self.first = 0.0
        self.last = 0.0
        self.behind = 0
        self.done: asyncio.Future[None] | None = None
        self.arrivals: dict[int, float] = {}

    def delivered(
        self, conn: Connection, buf: bytes | bytearray, start: int, end: int, count: int
    ) -> None:
        """``count`` list item events arrived on ``conn`` in the frame ``buf[start:end]``."""
        now = time.perf_counter()
        if not self.first:
            self.first = now
        self.last = now
        if conn.record:
            header_end = buf.find(b"\r\n", buf.find(b"\r\n", start) + 2)
            payload = orjson.loads(bytes(buf[header_end + 2 : end]))
            for event in payload.get("events") or [payload["event"]]:
                self.arrivals[event["item_index"]] = now
        conn.count += count
        if conn.count - count < self.target <= conn.count:
            self.behind -= 1
            if self.behind == 0 and self.done is not None and not self.done.done():
                self.done.set_result(None)

    async def open(self, token: str) -> Connection:
        loop = asyncio.get_running_loop()
        host, port = self.config["host"], self.config["port"]
        sdk = bool(self.config.get("sdk"))
        _, conn = await loop.create_connection(
            lambda: Connection(self, self.config.get("record", False), sdk), host, port
        )
        assert conn.transport is not None
        key = base64.b64encode(os.urandom(16)).decode()
        offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        conn.transport.write(
            (
                f"GET {self.config['path']} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"{offer if sdk else ''}\r\n"
            ).encode()
        )
        # uvicorn drops frames that arrive before the handshake is answered
        await asyncio.wait_for(conn.upgraded, 60)
        registration = {"product": "ip_messaging", "type": "ers"}
        registration["message_types"] = ["twilio.sync.event"]  # type: ignore[assignment]
        init = {"method": "init", "id": "TMinit", "token": token, "registrations": [registration]}
        if sdk:
            init["metadata"] = SDK_METADATA
        conn.transport.write(ws_binary(frame(init)))
        requests = [{"object_sid": self.config["list_sid"], "object_type": "list"}]
        if self.config.get("document_sid"):
            requests.append({"object_sid": self.config["document_sid"], "object_type": "document"})
        body = {"action": "establish", "correlation_id": 1, "requests": requests}
        request = {
            "method": "message",
            "id": "TMsub",
            "http_request": {"host": "cds.bench", "path": "/v4/Subscriptions", "method": "POST"},
        }
        conn.transport.write(ws_binary(frame(request, orjson.dumps(body))))
        await asyncio.wait_for(conn.established, 60)
        return conn

    async def start(self) -> None:
        tokens = self.config["tokens"]
        for batch in range(0, len(tokens), 50):
            opened = await asyncio.gather(*(self.open(t) for t in tokens[batch : batch + 50]))
            self.connections.extend(opened)

    async def expect(self, count: int, timeout: float) -> dict[str, Any]:
        for conn in self.connections:
            conn.count = 0
        self.target, self.behind, self.first, self.last = count, len(self.connections), 0.0, 0.0
        self.done = asyncio.get_running_loop().create_future()
        cpu = time.process_time()
        say({"armed": True})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.done, timeout)
        return {
            "complete": self.behind == 0,
            "deliveries": sum(min(c.count, count) for c in self.connections),
            "first": self.first,
            "last": self.last,
            "cpu_s": time.process_time() - cpu,
            "lost": self.lost,
        }


def say(message: dict[str, Any]) -> None:
    sys.stdout.buffer.write(orjson.dumps(message) + b"\n")
    sys.stdout.buffer.flush()


async def main() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)  # the first line holds every token
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    swarm = Swarm(orjson.loads(await reader.readline()))
    await swarm.start()
    say({"ready": len(swarm.connections)})
    while line := await reader.readline():
        command = orjson.loads(line)
        if command["cmd"] == "expect":
            say(await swarm.expect(command["count"], command["timeout"]))
        elif command["cmd"] == "arrivals":
            say({"arrivals": {str(k): v for k, v in swarm.arrivals.items()}})
        elif command["cmd"] == "quit":
            break
    for conn in swarm.connections:
        if conn.transport is not None:
            conn.transport.close()


if __name__ == "__main__":
    uvloop.run(main())

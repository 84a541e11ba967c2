"""The attackers of ``hostile_soak.py``, and what both sides of the soak share.

The stalled readers and the sockets without ``init`` are raw sockets (no library would refuse
to read on purpose); they run in a process of their own (:func:`run_attack`) and report, through
a queue, when each stopped reading or opened and when the server dropped it, and when the
server acknowledged each message of the busy channel.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import contextlib
import os
import random
import select
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import uvloop
from gateway import ACCOUNT_SID, AUTH_TOKEN, KEY_SECRET, KEY_SID, raise_file_limit
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant
from websockets.frames import Frame, Opcode

from chinwag.realtime.twilsock.codec import decode, encode

SYNC_EVENT = "twilio.sync.event"
#: the registration the Chat SDK sends at init (client-protocol 1.5)
REGISTRATION = {
    "product": "ip_messaging",
    "type": "ers",
    "notification_protocol_version": 0,
    "message_types": ["twilio.ipmsg.typing_indicator", SYNC_EVENT],
}
#: the defaults of the settings the lifetimes are judged against
INIT_TIMEOUT = 10.0
WRITE_TIMEOUT = 5.0
MAX_BUFFERED = 1 << 20
SLACK = 1.0
#: what a stalled reader can be sent before the server's writes to it wait (see the docstring)
HIGH_WATER = 64 * 1024
RECEIVE_BUFFER = 4096
_GONE = select.POLLHUP | select.POLLERR | select.POLLRDHUP


def token(service_sid: str, identity: str) -> str:
    access = AccessToken(ACCOUNT_SID, KEY_SID, KEY_SECRET, identity=identity, ttl=3600)
    access.add_grant(ChatGrant(service_sid=service_sid))
    return str(access.to_jwt())


@dataclass
class World:
    base: str
    service: str
    busy: str  # the busy channel's SID
    quiet: str
    busy_list: str  # SIDs of their messages lists
    quiet_list: str


def init_frame(jwt: str) -> bytes:
    return encode({"method": "init", "id": "TMinit", "token": jwt, "registrations": [REGISTRATION]})


def ack_frame(frame_id: str) -> bytes:
    """The SDK's acknowledgement of a notification."""
    return encode({"method": "reply", "id": frame_id, "status": {"code": 200, "status": "OK"}})


def subscribe_frame(list_name: str, request_id: str) -> bytes:
    body = {
        "action": "establish",
        "correlation_id": 1,
        "requests": [{"object_sid": list_name, "object_type": "list"}],
    }
    http = {"host": "cds.bench", "path": "/v4/Subscriptions", "method": "POST"}
    return encode(
        {"method": "message", "id": request_id, "http_request": {**http, "params": {}}},
        orjson.dumps(body),
    )


def page_frame(list_name: str, request_id: str, size: int) -> bytes:
    http = {
        "host": "cds.bench",
        "path": f"/v3/Lists/{list_name}/Items",
        "method": "GET",
        "params": {"PageSize": str(size)},
    }
    return encode({"method": "message", "id": request_id, "http_request": http})


async def traffic(
    world: World, channel: str, rate: float, body: str, stop: asyncio.Event,
    sent: dict[str, float] | None = None, acknowledged: list[float] | None = None,
) -> None:  # fmt: skip
    """Messages into ``channel`` at ``rate`` per second: each one's send time goes to ``sent``
    (by its body, which is made unique), its acknowledgement time to ``acknowledged``."""
    async with httpx.AsyncClient(
        base_url=world.base, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=30
    ) as http:
        url = f"/v1/Services/{world.service}/Channels/{channel}/Messages"
        count = 0
        start = time.monotonic()
        while not stop.is_set():
            count += 1
            text = f"{count:08d}{body}"
            if sent is not None:
                sent[text] = time.monotonic()
            await http.post(url, data={"Body": text})
            if acknowledged is not None:
                acknowledged.append(time.monotonic())
            await asyncio.sleep(max(0.0, start + count / rate - time.monotonic()))


# --- raw WebSockets -----------------------------------------------------------------------------


def ws_frame(data: bytes) -> bytes:
    return Frame(Opcode.BINARY, data).serialize(mask=True)


async def raw_open(
    address: tuple[str, int], source: str, receive_buffer: int | None = None
) -> tuple[socket.socket, bytes]:
    """A connected socket whose WebSocket handshake succeeded, and the bytes read past it."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setblocking(False)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.bind((source, 0))
    try:
        await loop.sock_connect(sock, address)
        key = base64.b64encode(os.urandom(16)).decode()
        await loop.sock_sendall(
            sock,
            f"GET /v3/wsconnect HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode(),
        )
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = await loop.sock_recv(sock, 65536)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.split(b"\r\n")[0].decode())
        return sock, rest
    except BaseException:
        sock.close()
        raise


async def raw_message(sock: socket.socket, buffer: bytes) -> tuple[bytes, bytes]:
    """The next binary message's payload, skipping control frames (which get no answer)."""
    loop = asyncio.get_running_loop()

    async def need(size: int) -> None:
        nonlocal buffer
        while len(buffer) < size:
            chunk = await loop.sock_recv(sock, 65536)
            if not chunk:
                raise ConnectionError("closed")
            buffer += chunk

    while True:
        await need(2)
        length, offset = buffer[1] & 0x7F, 2
        if length == 126:
            await need(4)
            length, offset = int.from_bytes(buffer[2:4], "big"), 4
        elif length == 127:
            await need(10)
            length, offset = int.from_bytes(buffer[2:10], "big"), 10
        await need(offset + length)
        opcode, payload = buffer[0] & 0x0F, buffer[offset : offset + length]
        buffer = buffer[offset + length :]
        if opcode == Opcode.BINARY:
            return payload, buffer


# --- the attackers ------------------------------------------------------------------------------


@dataclass
class Lifetimes:
    #: (stopped reading, dropped) of each stalled reader, monotonic seconds
    stalled: list[tuple[float, float]] = field(default_factory=list)
    pending: list[float] = field(default_factory=list)
    refused: int = 0  # handshakes or inits refused (the server shedding load)
    #: when the server acknowledged each message of the busy channel
    flooded: list[float] = field(default_factory=list)

    def past_full(self, args: argparse.Namespace) -> tuple[list[float], int]:
        """How long each stalled reader lived once the server held as much for it as it
        allows (the busy channel's messages since it stopped reading fill that); and how many
        were dropped before that (to make room, or over the byte budget first)."""
        need = -(-held_bytes(args) // frame_bytes(args))  # messages that fill it
        past, early = [], 0
        for stopped, dropped in self.stalled:
            after = bisect.bisect_left(self.flooded, stopped)
            if after + need - 1 < len(self.flooded) and self.flooded[after + need - 1] < dropped:
                past.append(dropped - self.flooded[after + need - 1])
            else:
                early += 1
        return past, early


class Watcher:
    """Notices a server dropping sockets that are never read, without reading them."""

    def __init__(self) -> None:
        self.poller = select.poll()
        self.waiting: dict[int, asyncio.Future[float]] = {}

    def watch(self, sock: socket.socket) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[sock.fileno()] = future
        self.poller.register(sock, _GONE)
        return future

    async def run(self) -> None:
        while True:
            for fd, _ in self.poller.poll(0):
                self.poller.unregister(fd)
                future = self.waiting.pop(fd)
                if not future.done():
                    future.set_result(time.monotonic())
            await asyncio.sleep(0.02)


async def stalled_reader(
    n: int, world: World, address: tuple[str, int], args: argparse.Namespace, stop: asyncio.Event,
    watcher: Watcher, lifetimes: Lifetimes,
) -> None:  # fmt: skip
    loop = asyncio.get_running_loop()
    jwt = token(world.service, f"stalled{n}")
    source = f"127.1.{n // 250}.{n % 250 + 1}"
    await asyncio.sleep(args.ramp * n / max(args.stalled, 1))
    while not stop.is_set():
        try:
            sock, buffer = await raw_open(address, source, receive_buffer=RECEIVE_BUFFER)
        except OSError:
            lifetimes.refused += 1
            await asyncio.sleep(random.uniform(0, 2 * args.reconnect))
            continue
        try:
            await loop.sock_sendall(sock, ws_frame(init_frame(jwt)))
            reply, buffer = await raw_message(sock, buffer)
            if decode(reply).header["status"]["code"] != 200:
                lifetimes.refused += 1
                continue
            await loop.sock_sendall(sock, ws_frame(subscribe_frame(world.busy_list, "TMsub")))
            if args.page:
                page = page_frame(world.busy_list, "TMpage", args.page)
                await loop.sock_sendall(sock, ws_frame(page))
            stalled_at = time.monotonic()  # nothing is read from here on
            gone = watcher.watch(sock)
            with contextlib.suppress(asyncio.CancelledError):
                ended = await asyncio.wait_for(asyncio.shield(gone), args.duration + 60)
                lifetimes.stalled.append((stalled_at, ended))
        except (OSError, TimeoutError):
            lifetimes.refused += 1
        finally:
            watcher.waiting.pop(sock.fileno(), None)
            with contextlib.suppress(KeyError, ValueError, OSError):
                watcher.poller.unregister(sock)
            sock.close()
        await asyncio.sleep(random.uniform(0, 2 * args.reconnect))


async def pending_socket(
    n: int, address: tuple[str, int], args: argparse.Namespace, stop: asyncio.Event,
    lifetimes: Lifetimes,
) -> None:  # fmt: skip
    loop = asyncio.get_running_loop()
    source = f"127.2.{n // 250}.{n % 250 + 1}"
    await asyncio.sleep(args.ramp * n / max(args.pending, 1))
    while not stop.is_set():
        try:
            sock, _ = await raw_open(address, source)
        except OSError:
            lifetimes.refused += 1
            await asyncio.sleep(1)
            continue
        opened = time.monotonic()
        try:
            while await loop.sock_recv(sock, 65536):  # reads, never sends anything
                pass
        except OSError:
            pass
        finally:
            sock.close()
        lifetimes.pending.append(time.monotonic() - opened)


def held_bytes(args: argparse.Namespace) -> int:
    """What the server lets a client that does not read hold before a write to it waits: the
    kernel's send buffer (capped at a quarter of the budget, which Linux accounts twice), the
    transport's high-water mark, the client's receive buffer (also twice), one message."""
    return 2 * (MAX_BUFFERED // 4) + HIGH_WATER + 2 * RECEIVE_BUFFER + frame_bytes(args)


def frame_bytes(args: argparse.Namespace) -> int:
    """A busy-channel message as a notification frame (its body and about 512 bytes)."""
    return args.flood_bytes + 512


async def attack(world: World, address: tuple[str, int], args: argparse.Namespace) -> Lifetimes:
    """The attackers, for ``args.duration`` seconds, then until their sockets are gone."""
    lifetimes, watcher, over = Lifetimes(), Watcher(), asyncio.Event()
    watching = asyncio.create_task(watcher.run())
    flood = "f" * (args.flood_bytes - 8)
    flooding = asyncio.create_task(
        traffic(world, world.busy, args.flood_rate, flood, over, acknowledged=lifetimes.flooded)
    )
    attackers = [
        asyncio.create_task(stalled_reader(n, world, address, args, over, watcher, lifetimes))
        for n in range(args.stalled)
    ] + [
        asyncio.create_task(pending_socket(n, address, args, over, lifetimes))
        for n in range(args.pending)
    ]
    await asyncio.sleep(args.duration)
    over.set()
    # the sockets open now are left to the server: each is closed within its bound
    await asyncio.wait(attackers, timeout=INIT_TIMEOUT + 3 * WRITE_TIMEOUT)
    for task in (*attackers, watching, flooding):
        task.cancel()
    await asyncio.gather(*attackers, watching, flooding, return_exceptions=True)
    return lifetimes


def run_attack(
    world: World, address: tuple[str, int], args: argparse.Namespace, out: Any
) -> None:  # fmt: skip
    """The attackers' process: its own event loop, its results through ``out``. It runs at a
    lower priority (nice 10): real attackers are on other machines and take no CPU from the
    server; here they share its two cores, and should not be what slows it."""
    raise_file_limit()
    os.nice(10)
    lifetimes = uvloop.run(attack(world, address, args))
    out.put(lifetimes)

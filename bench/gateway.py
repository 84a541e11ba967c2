#!/usr/bin/env python3
"""Client gateway benchmark: idle connections per process, and requests inside the socket.

1. **Idle connections.** Starts ``chinwag serve`` (SQLite, one process), opens ``--connections``
   raw WebSockets to ``/v3/wsconnect`` from this process and completes a Twilsock ``init`` on
   each (a real access token, minted with twilio-python). Reports the server's resident memory
   (``VmRSS``) before and after, and the difference per connection. Goal: 10,000 connections
   in one process under 1 GiB.
2. **Round trips.** On one initialised connection, ``--in-flight`` requests at a time of
   ``GET /Client/v1/Configuration`` for ``--seconds``; then, in the same run, the REST request
   ``GET /v1/Services/{IS}/Users/{identity}`` with as many requests in flight over as many
   keep-alive HTTP connections. Both clients are minimal (no HTTP library on the REST side).
   Reports both rates and socket / REST. The socket request does more
   database work (it reads the service *and* the user) than the REST one (the user), so the
   ratio understates the transport's own speed.

Both sides raise their open-file limit to the hard limit (``ulimit -n``). Keep runs short on a
shared machine.

Usage::

    .venv/bin/python bench/gateway.py                          # 2,000 connections, 5 s phases
    .venv/bin/python bench/gateway.py --connections 10000 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant
from websockets.asyncio.client import ClientConnection, connect

from chinwag.realtime.twilsock.codec import decode, encode

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
KEY_SID = "SK" + "fedcba9876543210" * 2
KEY_SECRET = "0123456789abcdef0123456789abcdef"
IDENTITY = "bench"


def raise_file_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def database(directory: str) -> list[str]:
    return ["--database", f"sqlite:///{directory}/bench.db"]


def start_server(directory: str, **settings: str) -> tuple[subprocess.Popen[bytes], str]:
    """``chinwag serve`` on a new SQLite file in ``directory``, with the bench's account and API
    key, and ``CHINWAG_<NAME>`` set for each of ``settings``."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHINWAG_")}
    env.update(
        CHINWAG_ACCOUNT_SID=ACCOUNT_SID,
        CHINWAG_AUTH_TOKEN=AUTH_TOKEN,
        CHINWAG_API_KEY_SID=KEY_SID,
        CHINWAG_API_KEY_SECRET=KEY_SECRET,
        CHINWAG_LOG_LEVEL="warning",
    )
    env.update({f"CHINWAG_{name.upper()}": value for name, value in settings.items()})
    proc = subprocess.Popen(
        [sys.executable, "-m", "chinwag.cli", "serve", "--port", str(port), *database(directory)],
        env=env,
        preexec_fn=raise_file_limit,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("chinwag serve did not start")


def token(service_sid: str) -> str:
    access = AccessToken(ACCOUNT_SID, KEY_SID, KEY_SECRET, identity=IDENTITY, ttl=3600)
    access.add_grant(ChatGrant(service_sid=service_sid))
    return str(access.to_jwt())


async def open_initialised(url: str, jwt: str, n: int) -> ClientConnection:
    ws = await connect(url, max_queue=4, ping_interval=None, compression=None)
    await ws.send(encode({"method": "init", "id": f"TM{n}", "token": jwt, "registrations": []}))
    reply = decode(await ws.recv())  # type: ignore[arg-type]
    if reply.header["status"]["code"] != 200:
        raise RuntimeError(f"init refused: {reply.header}")
    return ws


async def idle_connections(url: str, jwt: str, count: int) -> tuple[list[ClientConnection], float]:
    sockets: list[ClientConnection] = []
    start = time.perf_counter()
    batch = 200
    for first in range(0, count, batch):
        opened = await asyncio.gather(
            *(open_initialised(url, jwt, n) for n in range(first, min(first + batch, count)))
        )
        sockets.extend(opened)
    return sockets, time.perf_counter() - start


async def socket_rate(ws: ClientConnection, seconds: float, in_flight: int) -> float:
    http = {"host": "aim.bench", "path": "/Client/v1/Configuration", "method": "GET"}
    done = 0
    deadline = time.perf_counter() + seconds

    async def send(n: int) -> None:
        await ws.send(encode({"method": "message", "id": f"TR{n}", "http_request": http}))

    for n in range(in_flight):
        await send(n)
    sent = in_flight
    start = time.perf_counter()
    while True:
        reply = decode(await ws.recv())  # type: ignore[arg-type]
        assert reply.header["http_status"]["code"] == 200, reply.header
        done += 1
        if time.perf_counter() < deadline:
            await send(sent)
            sent += 1
        elif done == sent:
            return done / (time.perf_counter() - start)


async def rest_rate(base: str, path: str, seconds: float, in_flight: int) -> float:
    """Requests per second of ``GET path`` on ``in_flight`` keep-alive connections, each
    sending its next request when the last answer is read: a minimal HTTP/1.1 client, so
    client overhead is as small as the WebSocket client's."""
    host, port = base.removeprefix("http://").split(":")
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Basic {credentials}\r\n\r\n"
    ).encode()
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection(host, int(port))
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            done += 1
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return done / (time.perf_counter() - start)


async def run(args: argparse.Namespace) -> None:
    raise_file_limit()
    with tempfile.TemporaryDirectory() as directory:
        subprocess.run(
            [sys.executable, "-m", "chinwag.cli", "db", "upgrade", *database(directory)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        room = str(args.connections + 10)
        proc, base = start_server(
            directory,
            gateway_max_connections=room,
            gateway_max_connections_per_identity=room,
            gateway_upstream_rate="1000000",
            gateway_upstream_concurrency="1024",
            gateway_init_timeout="60",
            gateway_max_pending_per_address=room,  # every client is this one address
        )
        try:
            auth = (ACCOUNT_SID, AUTH_TOKEN)
            service = httpx.post(f"{base}/v1/Services", data={"FriendlyName": "b"}, auth=auth)
            service_sid = service.json()["sid"]
            jwt, url = token(service_sid), base.replace("http", "ws", 1) + "/v3/wsconnect"
            first = await open_initialised(url, jwt, -1)  # creates the user; warms up
            before = rss_mib(proc.pid)
            sockets, took = await idle_connections(url, jwt, args.connections)
            await asyncio.sleep(1)
            after = rss_mib(proc.pid)
            per = (after - before) * 1024 / args.connections
            print(
                f"idle: {args.connections} connections initialised in {took:.1f} s; server RSS "
                f"{before:.0f} MiB -> {after:.0f} MiB ({per:.1f} KiB per connection; "
                f"10,000 would be {before + per * 10_000 / 1024:.0f} MiB)"
            )
            for ws in sockets:
                await ws.close()
            over_socket = await socket_rate(first, args.seconds, args.in_flight)
            path = f"/v1/Services/{service_sid}/Users/{IDENTITY}"
            over_rest = await rest_rate(base, path, args.seconds, args.in_flight)
            print(
                f"round trips ({args.in_flight} in flight): socket Configuration "
                f"{over_socket:.0f}/s, REST fetch user {over_rest:.0f}/s, "
                f"ratio {over_socket / over_rest:.2f}"
            )
            print(
                orjson.dumps(
                    {
                        "connections": args.connections,
                        "rss_before_mib": before,
                        "rss_after_mib": after,
                        "kib_per_connection": per,
                        "socket_rps": over_socket,
                        "rest_rps": over_rest,
                    }
                ).decode()
            )
            await first.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--in-flight", type=int, default=8)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

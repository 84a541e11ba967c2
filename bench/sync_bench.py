"""Sync delivery benchmark: REST message create -> ``list_item_added`` at subscribed clients.

    .venv/bin/python bench/sync_bench.py [--database URL] [--subscribers N]
                                         [--workers 2 --redis-url URL]

Starts ``chinwag serve`` on a fresh database, connects Twilsock clients (a minimal client on
chinwag's own frame codec: it sends ``init`` and a ``/v4/Subscriptions`` establish for the
channel's messages list, then records every notification), and reports:

- **latency**: one subscriber; messages posted at ``--rate`` per second for ``--seconds``;
  time from sending the REST request to the client holding the ``list_item_added``, p50/p99;
- **fan-out**: ``--subscribers`` members connected; one message at a time, time until the
  last of them has it (median over ``--fanout-rounds``), and deliveries per second while
  messages are posted back to back;
- **create ratio**: REST create throughput with those subscribers connected, over the same
  with none connected.

The clients run in this process, on the same 2 CPUs as the server: on this machine the
figures are a floor, and only ratios within one run compare well. Every run stays well under
30 s with the defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx
import orjson
import websockets
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant

from chinwag.app import open_deps
from chinwag.config import Settings
from chinwag.domain.api_keys import create_api_key
from chinwag.realtime.sync import objects
from chinwag.realtime.twilsock.codec import decode, encode

ACCOUNT = "AC" + "0" * 32
TOKEN = "sync-bench-token"
AUTH = (ACCOUNT, TOKEN)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Subscriber:
    """One connection subscribed to a messages list; notes when each index arrives."""

    def __init__(self, url: str, token: str, list_sid: str) -> None:
        self.url, self.token, self.list_sid = url, token, list_sid
        self.arrived: dict[int, float] = {}
        self.established = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._ws = await websockets.connect(self.url, max_size=None)
        init = {
            "method": "init",
            "id": "TMinit",
            "token": self.token,
            "registrations": [
                {"product": "ip_messaging", "type": "ers", "message_types": ["twilio.sync.event"]}
            ],
        }
        await self._ws.send(encode(init))
        assert decode(await self._ws.recv()).header["status"]["code"] == 200
        body = {
            "action": "establish",
            "correlation_id": 1,
            "requests": [{"object_sid": self.list_sid, "object_type": "list"}],
        }
        request = {
            "method": "message",
            "id": "TMsub",
            "http_request": {"host": "cds.bench", "path": "/v4/Subscriptions", "method": "POST"},
        }
        await self._ws.send(encode(request, orjson.dumps(body)))
        self._task = asyncio.get_running_loop().create_task(self._read())
        await asyncio.wait_for(self.established.wait(), 30)

    async def _read(self) -> None:
        async for data in self._ws:
            frame = decode(data if isinstance(data, bytes) else data.encode())
            if frame.header.get("method") != "notification":
                continue
            payload = orjson.loads(frame.payload)
            kind = payload.get("event_type")
            if kind == "subscription_established":
                self.established.set()
            elif kind == "list_item_added":
                self.arrived[payload["event"]["item_index"]] = time.perf_counter()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await self._ws.close()


async def _key(database: str) -> tuple[str, str]:
    async with open_deps(Settings(database=database)) as deps:
        key = await create_api_key(deps, ACCOUNT, "bench")
    return key.sid, key.secret


def _token(key: tuple[str, str], service: str, identity: str) -> str:
    token = AccessToken(ACCOUNT, key[0], key[1], identity=identity, ttl=3600)
    token.add_grant(ChatGrant(service_sid=service))
    return str(token.to_jwt())


def _serve(database: str, args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHINWAG_")}
    env.update(CHINWAG_ACCOUNT_SID=ACCOUNT, CHINWAG_AUTH_TOKEN=TOKEN, CHINWAG_LOG_LEVEL="warning")
    cmd = [sys.executable, "-m", "chinwag.cli", "serve", "--port", str(port)]
    cmd += ["--database", database, "--workers", str(args.workers)]
    if args.redis_url:
        cmd += ["--redis-url", args.redis_url]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("chinwag serve did not start")
        time.sleep(0.1)


async def _creates(base: str, path: str, seconds: float) -> float:
    """REST creates per second under ``wrk`` (16 connections), in its own process so the load
    generator does not compete with this process's subscribers."""
    auth = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    script = (
        'wrk.method = "POST"\nwrk.body = "Body=load"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Authorization"] = "Basic {auth}"\n'
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    proc = await asyncio.create_subprocess_exec(
        "wrk",
        "-t1",
        "-c16",
        f"-d{max(1, round(seconds))}s",
        "-s",
        lua.name,
        base + path,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    os.unlink(lua.name)
    text = out.decode()
    if "Non-2xx" in text:
        raise SystemExit(f"wrk saw failed creates:\n{text}")
    return float(text.split("Requests/sec:")[1].split()[0])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run(args: argparse.Namespace, base: str, key: tuple[str, str]) -> dict[str, Any]:
    ws = base.replace("http://", "ws://") + "/v3/wsconnect"
    async with httpx.AsyncClient(base_url=base, auth=AUTH, timeout=30) as http:
        service = (await http.post("/v1/Services", data={"FriendlyName": "bench"})).json()["sid"]
        limit = {"Limits.ChannelMembers": str(max(args.subscribers, 100))}
        await http.post(f"/v1/Services/{service}", data=limit)
        channel = (await http.post(f"/v1/Services/{service}/Channels")).json()["sid"]
        path = f"/v1/Services/{service}/Channels/{channel}/Messages"
        list_sid = objects.messages_list(channel).sid
        for n in range(args.subscribers):
            await http.post(
                f"/v1/Services/{service}/Channels/{channel}/Members", data={"Identity": f"u{n}"}
            )
        results: dict[str, Any] = {}

        alone = await _creates(base, path, args.create_seconds)

        async def post(body: str) -> tuple[int, float]:
            """Create a message: its index (from the reply) and when the request left."""
            at = time.perf_counter()
            response = await http.post(path, data={"Body": body})
            return int(response.json()["index"]), at

        one = Subscriber(ws, _token(key, service, "u0"), list_sid)
        await one.start()
        sent: dict[int, float] = {}
        count = int(args.rate * args.seconds)
        for n in range(count):
            index, at = await post(f"m{n}")
            sent[index] = at
            await asyncio.sleep(max(0.0, at + 1 / args.rate - time.perf_counter()))
        await asyncio.sleep(1.0)
        latencies = [one.arrived[i] - t for i, t in sent.items() if i in one.arrived]
        with_one = await _creates(base, path, args.create_seconds)
        results["latency"] = {
            "messages": count,
            "delivered": len(latencies),
            "rate_per_s": args.rate,
            "p50_ms": round(_pct(latencies, 0.5), 1),
            "p99_ms": round(_pct(latencies, 0.99), 1),
        }
        await one.stop()

        subs = [
            Subscriber(ws, _token(key, service, f"u{n}"), list_sid) for n in range(args.subscribers)
        ]
        for batch in range(0, len(subs), 50):
            await asyncio.gather(*(s.start() for s in subs[batch : batch + 50]))
        spans = []
        for _ in range(args.fanout_rounds):
            index, at = await post("fan-out")
            while not all(index in s.arrived for s in subs):
                await asyncio.sleep(0.001)
            spans.append(max(s.arrived[index] for s in subs) - at)
        start = time.perf_counter()
        burst = [i for i, _ in await asyncio.gather(*(post("burst") for _ in range(20)))]
        deadline = time.perf_counter() + 20
        while not all(i in s.arrived for s in subs for i in burst):
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.005)
        delivered = [s.arrived[i] for s in subs for i in burst if i in s.arrived]
        results["fanout"] = {
            "subscribers": args.subscribers,
            "last_member_median_ms": round(statistics.median(spans) * 1000, 1),
            "deliveries_per_s": round(len(delivered) / (max(delivered) - start)),
        }
        loaded = await _creates(base, path, args.create_seconds)
        results["create"] = {
            "alone_per_s": round(alone),
            "one_subscriber_ratio": round(with_one / alone, 3),
            f"{args.subscribers}_subscribers_ratio": round(loaded / alone, 3),
        }
        await asyncio.gather(*(s.stop() for s in subs))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--redis-url", help="with --workers > 1: Redis for the fan-out")
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--rate", type=float, default=200.0, help="messages/s for latency")
    parser.add_argument("--seconds", type=float, default=3.0, help="latency run length")
    parser.add_argument("--fanout-rounds", type=int, default=5)
    parser.add_argument("--create-seconds", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = args.database or f"sqlite:///{tmp}/sync-bench.db"
        proc, base = _serve(database, args)
        try:
            key = asyncio.run(_key(database))
            results = asyncio.run(run(args, base, key))
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    print(
        f"database {database.split('://')[0]}, workers {args.workers}, redis {bool(args.redis_url)}"
    )
    for name, figures in results.items():
        print(f"{name:8} " + ", ".join(f"{k} {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()

"""Sync delivery benchmark: REST message create -> ``list_item_added`` at subscribed clients.

    .venv/bin/python bench/sync_bench.py [--quick] [--json PATH]
    .venv/bin/python bench/sync_bench.py --database postgresql://…/empty_db \\
        --processes 2 --redis-url redis://127.0.0.1:6379/11

Starts ``chinwag serve`` (one process, or two on one database with ``--processes 2`` and
``--redis-url``: process A takes every REST write, process B holds every client, so each event
crosses processes as a Redis hint and a database read on B). The clients run in their own
process (``sync_swarm.py``: raw sockets that count frames, not SDKs), the REST load comes from
a minimal keep-alive HTTP client in this process and from ``wrk``. It reports:

- **latency**: one subscriber; ``--rate`` messages per second for ``--seconds``, sent on a
  fixed schedule; time from sending the REST request to the subscriber holding the
  ``list_item_added``, p50/p99;
- **fan-out**: ``--subscribers`` members connected; one message at a time, time until the last
  of them has it (median of ``--fanout-rounds``);
- **throughput**: ``--burst`` messages posted at once to those members; deliveries per wall
  second, the CPU the server process(es) used meanwhile (share of one CPU), and deliveries
  per server-CPU-second, which reads the same on a busy or a quiet machine;
- **create**: REST create throughput (``wrk``) with one subscriber and with all of them
  connected, over the same with none.

``--quick`` is a smoke run (100 subscribers, short phases, about 15 s). The defaults are the
target scale (1,000 subscribers, 500 messages/s). On a shared 2-CPU machine the wall-clock
figures are floors; compare A/B runs interleaved, in one session.

``--json PATH`` writes the figures as one JSON object:

- ``setup``: ``database`` (``sqlite`` or ``postgresql``), ``processes``, ``redis`` (bool),
  ``subscribers``, ``cpus`` (of the machine), ``loadavg_1m`` (before the run);
- ``latency``: ``messages``, ``delivered``, ``rate_per_s``, ``p50_ms``, ``p99_ms``,
  ``max_ms``, and the REST create round trip ``reply_p50_ms``, ``reply_p99_ms`` (when those
  grow, the writer is behind the rate and the latency measures its backlog), and
  ``after_reply_p50_ms``, ``after_reply_p99_ms``: from the REST reply to the delivery (the
  commit precedes both, so this is the delivery path alone; negative when the event wins);
- ``fanout``: ``subscribers``, ``rounds``, ``last_member_median_ms``, ``last_member_max_ms``;
- ``throughput``: ``messages``, ``deliveries`` (received), ``expected``, ``seconds``,
  ``deliveries_per_s``, ``server_cpu_s``, ``server_cpu_share`` (CPU seconds per wall second,
  1.0 = one CPU busy), ``server_system_cpu_fraction`` (the part of it spent in the kernel:
  socket writes), ``deliveries_per_server_cpu_s``, ``clients_cpu_s``;
- ``create``: ``alone_per_s``, ``one_subscriber_ratio``, ``subscribers_ratio`` (with all
  ``setup.subscribers`` connected).

To run another source tree of the server (an A/B), put its ``src`` first on ``PYTHONPATH``:
the servers inherit it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import ChatGrant

from chinwag.app import open_deps
from chinwag.config import Settings
from chinwag.domain.api_keys import create_api_key
from chinwag.realtime.sync import objects

ACCOUNT = "AC" + "0" * 32
TOKEN = "sync-bench-token"
AUTH = (ACCOUNT, TOKEN)
SWARM = Path(__file__).with_name("sync_swarm.py")
TICK = os.sysconf("SC_CLK_TCK")
#: a keep-alive connection idle this long is not reused (the server may be closing it)
IDLE_SECONDS = 1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system (kernel) CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def tree_cpu_seconds(pid: int) -> tuple[float, float]:
    """:func:`cpu_seconds` of ``pid`` and every live process below it (a server whose worker
    is a child process, as Granian's is)."""
    user = system = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        with contextlib.suppress(OSError):
            u, s = cpu_seconds(p)
            user, system = user + u, system + s
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return user, system


class Server:
    """One ``chinwag serve`` process."""

    def __init__(
        self,
        database: str,
        redis_url: str | None,
        src: str | None = None,
        script: str | None = None,
    ) -> None:
        """``script``: a program taking ``chinwag serve``'s arguments to run instead (the
        server question's ``bench/chinwag_bench/on_granian.py``)."""
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHINWAG_")}
        if src is not None:  # another tree of chinwag (an A/B)
            env["PYTHONPATH"] = src
        env.update(
            CHINWAG_ACCOUNT_SID=ACCOUNT, CHINWAG_AUTH_TOKEN=TOKEN, CHINWAG_LOG_LEVEL="warning"
        )
        program = [script] if script else ["-m", "chinwag.cli"]
        cmd = [sys.executable, *program, "serve", "--port", str(port)]
        cmd += ["--database", database]
        if redis_url:
            cmd += ["--redis-url", redis_url]
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
        self.database = database
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise SystemExit("chinwag serve did not start")
            time.sleep(0.1)

    def cpu(self) -> tuple[float, float]:
        return tree_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@contextlib.contextmanager
def servers(database: str, processes: int, redis_url: str | None) -> Iterator[list[Server]]:
    """``processes`` servers on ``database``, started one after the other (the first one
    prepares the schema)."""
    started: list[Server] = []
    try:
        for _ in range(processes):
            started.append(Server(database, redis_url))
        yield started
    finally:
        for server in started:
            server.stop()


class Poster:
    """Message creates over keep-alive HTTP/1.1 connections, with no HTTP library: the load
    generator should cost the shared CPUs as little as possible."""

    def __init__(self, port: int, path: str) -> None:
        self.port = port
        self.head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Basic {base64.b64encode(f'{ACCOUNT}:{TOKEN}'.encode()).decode()}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
        ).encode()
        #: keep-alive connections and when each was last used
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def post(self, body: str) -> tuple[int, float]:
        """Create a message: its index (from the reply) and when the request left."""
        while self.idle:
            reader, writer, used = self.idle.pop()
            if time.monotonic() - used < IDLE_SECONDS:
                break
            writer.close()
        else:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        form = b"Body=" + body.encode()
        at = time.perf_counter()
        writer.write(self.head + b"Content-Length: %d\r\n\r\n" % len(form) + form)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 201"):
            raise SystemExit(f"message create failed: {head[:200]!r}")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        reply = orjson.loads(await reader.readexactly(length))
        self.idle.append((reader, writer, time.monotonic()))
        return int(reply["index"]), at

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()


class Swarm:
    """A ``sync_swarm.py`` process holding subscribed client connections."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls, server: Any, list_sid: str, tokens: list[str], *, record: bool = False, **extra: Any
    ) -> AsyncIterator[Swarm]:
        """``extra`` goes to the swarm's configuration (``sdk``, ``document_sid``)."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SWARM),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 24,
        )
        swarm = cls(proc)
        try:
            config = {"host": "127.0.0.1", "port": server.port, "path": "/v3/wsconnect"}
            config.update(list_sid=list_sid, tokens=tokens, record=record, **extra)
            await swarm._say(config)
            ready = await swarm._hear()
            if ready.get("ready") != len(tokens):
                raise SystemExit(f"clients did not all subscribe: {ready}")
            yield swarm
        finally:
            with contextlib.suppress(OSError):
                await swarm._say({"cmd": "quit"})
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()

    async def _say(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(orjson.dumps(message) + b"\n")
        await self.proc.stdin.drain()

    async def _hear(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        if not line:
            raise SystemExit("the client process ended")
        answer: dict[str, Any] = orjson.loads(line)
        return answer

    async def expect(self, count: int, timeout: float) -> asyncio.Task[dict[str, Any]]:
        """Start counting deliveries; the task ends when every client has ``count`` more."""
        await self._say({"cmd": "expect", "count": count, "timeout": timeout})
        assert (await self._hear()).get("armed")
        return asyncio.get_running_loop().create_task(self._hear())

    async def arrivals(self) -> dict[int, float]:
        await self._say({"cmd": "arrivals"})
        return {int(k): v for k, v in (await self._hear())["arrivals"].items()}


async def _key(database: str) -> tuple[str, str]:
    async with open_deps(Settings(database=database)) as deps:
        key = await create_api_key(deps, ACCOUNT, "bench")
    return key.sid, key.secret


def _token(key: tuple[str, str], service: str, identity: str) -> str:
    token = AccessToken(ACCOUNT, key[0], key[1], identity=identity, ttl=3600)
    token.add_grant(ChatGrant(service_sid=service))
    return str(token.to_jwt())


async def _creates(base: str, path: str, seconds: float) -> float:
    """REST creates per second under ``wrk`` (16 connections)."""
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


async def _latency(
    args: argparse.Namespace, poster: Poster, swarm: Swarm, count: int
) -> dict[str, Any]:
    """``count`` creates on a fixed schedule (not one after the other: a slow reply must not
    lower the rate), then the arrival of each at the subscriber. The REST round trips are
    reported too: when they grow, the server is not keeping up with the rate, and the
    delivery latency measures that backlog."""
    sent: dict[int, float] = {}
    replied: dict[int, float] = {}

    async def post_at(when: float, n: int) -> None:
        await asyncio.sleep(max(0.0, when - time.perf_counter()))
        index, at = await poster.post(f"m{n}")
        replied[index] = time.perf_counter()
        sent[index] = at

    await asyncio.gather(*(poster.post("warm-up") for _ in range(8)))  # open the connections
    start = time.perf_counter() + 0.1
    await asyncio.gather(*(post_at(start + n / args.rate, n) for n in range(count)))
    await asyncio.sleep(1.0)
    arrived = await swarm.arrivals()
    latencies = [arrived[i] - t for i, t in sent.items() if i in arrived]
    after_reply = [arrived[i] - t for i, t in replied.items() if i in arrived]
    replies = [replied[i] - t for i, t in sent.items()]
    return {
        "messages": count,
        "delivered": len(latencies),
        "rate_per_s": args.rate,
        "p50_ms": round(_pct(latencies, 0.5), 1),
        "p99_ms": round(_pct(latencies, 0.99), 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "reply_p50_ms": round(_pct(replies, 0.5), 1),
        "reply_p99_ms": round(_pct(replies, 0.99), 1),
        "after_reply_p50_ms": round(_pct(after_reply, 0.5), 1),
        "after_reply_p99_ms": round(_pct(after_reply, 0.99), 1),
    }


async def _fanout(args: argparse.Namespace, poster: Poster, swarm: Swarm) -> dict[str, Any]:
    spans = []
    for _ in range(args.fanout_rounds):
        result = await swarm.expect(1, 30)
        _, at = await poster.post("fan-out")
        got = await result
        if not got["complete"]:
            raise SystemExit(f"fan-out incomplete: {got}")
        spans.append(got["last"] - at)
    return {
        "subscribers": args.subscribers,
        "rounds": args.fanout_rounds,
        "last_member_median_ms": round(statistics.median(spans) * 1000, 1),
        "last_member_max_ms": round(max(spans) * 1000, 1),
    }


async def _throughput(
    args: argparse.Namespace, poster: Poster, swarm: Swarm, watched: list[Server]
) -> dict[str, Any]:
    result = await swarm.expect(args.burst, 60)
    before = [s.cpu() for s in watched]
    start = time.perf_counter()
    await asyncio.gather(*(poster.post("burst") for _ in range(args.burst)))
    got = await result
    after = [s.cpu() for s in watched]
    user = sum(a[0] - b[0] for a, b in zip(after, before, strict=True))
    system = sum(a[1] - b[1] for a, b in zip(after, before, strict=True))
    cpu = user + system
    seconds = got["last"] - start
    deliveries = got["deliveries"]
    return {
        "messages": args.burst,
        "deliveries": deliveries,
        "expected": args.burst * args.subscribers,
        "seconds": round(seconds, 3),
        "deliveries_per_s": round(deliveries / seconds),
        "server_cpu_s": round(cpu, 2),
        "server_cpu_share": round(cpu / seconds, 2),
        "server_system_cpu_fraction": round(system / cpu, 2) if cpu else None,
        "deliveries_per_server_cpu_s": round(deliveries / cpu) if cpu else None,
        "clients_cpu_s": round(got["cpu_s"], 2),
    }


async def make_channel(
    args: argparse.Namespace, writer: Server, key: tuple[str, str]
) -> tuple[str, str, list[str]]:
    """A channel with ``--subscribers`` members: its messages path, its messages list SID, and
    an access token for each member."""
    async with httpx.AsyncClient(base_url=writer.base, auth=AUTH, timeout=30) as http:
        service = (await http.post("/v1/Services", data={"FriendlyName": "bench"})).json()["sid"]
        limit = {"Limits.ChannelMembers": str(max(args.subscribers, 100))}
        await http.post(f"/v1/Services/{service}", data=limit)
        channel = (await http.post(f"/v1/Services/{service}/Channels")).json()["sid"]
        members = f"/v1/Services/{service}/Channels/{channel}/Members"
        for batch in range(0, args.subscribers, 20):
            identities = range(batch, min(batch + 20, args.subscribers))
            added = await asyncio.gather(
                *(http.post(members, data={"Identity": f"u{n}"}) for n in identities)
            )
            if any(r.status_code != 201 for r in added):
                raise SystemExit(f"adding members failed: {[r.text for r in added][:2]}")
    path = f"/v1/Services/{service}/Channels/{channel}/Messages"
    list_sid = objects.messages_list(channel).sid
    tokens = [_token(key, service, f"u{n}") for n in range(args.subscribers)]
    return path, list_sid, tokens


async def run(
    args: argparse.Namespace,
    writer: Server,
    host: Server,
    key: tuple[str, str],
    watched: list[Server],
) -> dict[str, Any]:
    path, list_sid, tokens = await make_channel(args, writer, key)
    poster = Poster(writer.port, path)
    results: dict[str, Any] = {}
    try:
        alone = await _creates(writer.base, path, args.create_seconds)
        async with Swarm.running(host, list_sid, tokens[:1], record=True) as one:
            results["latency"] = await _latency(args, poster, one, int(args.rate * args.seconds))
            with_one = await _creates(writer.base, path, args.create_seconds)
        async with Swarm.running(host, list_sid, tokens) as swarm:
            results["fanout"] = await _fanout(args, poster, swarm)
            results["throughput"] = await _throughput(args, poster, swarm, watched)
            loaded = await _creates(writer.base, path, args.create_seconds)
    finally:
        poster.close()
    results["create"] = {
        "alone_per_s": round(alone),
        "one_subscriber_ratio": round(with_one / alone, 3),
        "subscribers_ratio": round(loaded / alone, 3),
    }
    return results


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    parser.add_argument(
        "--processes", type=int, choices=(1, 2), default=1, help="2: writer A, clients on B"
    )
    parser.add_argument("--redis-url", help="Redis for hints between the processes")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=500.0, help="messages/s for latency")
    parser.add_argument("--seconds", type=float, default=5.0, help="latency run length")
    parser.add_argument("--fanout-rounds", type=int, default=5)
    parser.add_argument("--burst", type=int, default=50, help="messages for throughput")
    parser.add_argument("--create-seconds", type=float, default=3.0)
    parser.add_argument("--quick", action="store_true", help="a smoke run of about 15 s")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.quick:
        args.subscribers, args.seconds, args.fanout_rounds = 100, 2.0, 3
        args.burst, args.create_seconds = 20, 1.0
    if args.processes == 2 and not args.redis_url:
        parser.error("--processes 2 needs --redis-url")
    return args


def report(results: dict[str, Any]) -> str:
    lines = []
    for name, figures in results.items():
        lines.append(f"{name:10} " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = args.database or f"sqlite:///{tmp}/sync-bench.db"
        results: dict[str, Any] = {
            "setup": {
                "database": database.split("://")[0].split("+")[0],
                "processes": args.processes,
                "redis": bool(args.redis_url),
                "subscribers": args.subscribers,
                "cpus": os.cpu_count(),
                "loadavg_1m": os.getloadavg()[0],
            }
        }
        with servers(database, args.processes, args.redis_url) as started:
            key = asyncio.run(_key(database))
            writer, host = started[0], started[-1]
            results.update(asyncio.run(run(args, writer, host, key, started)))
    print(report(results))
    if args.json:
        args.json.write_text(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The live path's goals in one run: cheaper frames, REST never starved, compression decided by
figures, scale-out across processes. Prints one table with each goal, its figure and a verdict.

    .venv/bin/python bench/live.py                                   # every part
    .venv/bin/python bench/live.py --only frames --before /tmp/before/src
    .venv/bin/python bench/live.py --only rest --database postgresql://…/EMPTY_DB
    .venv/bin/python bench/live.py --only memory --connections 10000
    .venv/bin/python bench/live.py --only scale --redis-url redis://127.0.0.1:6379/11
    .venv/bin/python bench/live.py --only rest --set gateway_compression=true   # a setting

Every server is a ``chinwag serve`` subprocess; clients are ``sync_swarm.py`` processes on raw
sockets. "As the SDK connects" (``sdk`` clients) means: the handshake offers permessage-deflate,
as ``ws`` in Node and every browser do, the client subscribes to the channel's messages list
*and* its document, and acknowledges every server frame.

- **frames**: deliveries per server CPU-second, one process, ``--receivers`` SDK clients of one
  channel, bursts of ``--burst`` REST creates. Measured for this tree with compression off and
  on and, with ``--before SRC``, for another tree in the same run (with SDK clients, under
  its own compression default, and with clients that neither offer compression nor
  acknowledge, as the issue's first figures were taken), interleaved over ``--rounds``
  (order reversed every round); medians. SDK clients acknowledge with the SDK's exact bytes
  and send twilio-chat 6's init metadata, so they get several events in one notification as
  the SDK does; every event counts as a delivery.
- **rest**: REST creates flat out (``wrk``, 16 connections) with no receivers, then with
  ``--rest-receivers`` SDK clients listening; the create p99 under load, ``/healthz``
  round trips probed every 20 ms meanwhile, and sends with receivers / sends without; each
  tree once per round (interleaved as above), medians of the rounds.
- **memory**: server RSS per idle SDK connection (init, two subscriptions) with compression
  off and on; ``--connections`` of them in one process against 1 GiB.
- **scale**: one API process takes every REST write; 1, 2 and 4 gateway processes hold the
  receivers (split evenly), wake-ups cross through Redis; deliveries per wall second of a
  burst, and the ratio to one process.

The machine is shared: ratios measured in one run are the result, absolute figures move with
the load (the report prints the load average at each part).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import re
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
from sync_bench import (
    ACCOUNT,
    TOKEN,
    Poster,
    Swarm,
    _key,
    cpu_seconds,
    free_port,
    make_channel,
)

from chinwag.realtime.sync import objects

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
GIB = 1024 * 1024
#: settings every server of the run gets (``--set``), unless a part sets its own
EXTRA: dict[str, str] = {}


class Server:
    """One ``chinwag serve``: a source tree, a database and ``CHINWAG_*`` settings."""

    def __init__(self, database: str, src: Path = SRC, **settings: str) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHINWAG_")}
        env["PYTHONPATH"] = str(src)
        env.update(
            CHINWAG_ACCOUNT_SID=ACCOUNT, CHINWAG_AUTH_TOKEN=TOKEN, CHINWAG_LOG_LEVEL="warning"
        )
        env.update({f"CHINWAG_{k.upper()}": v for k, v in {**EXTRA, **settings}.items()})
        cmd = [sys.executable, "-m", "chinwag.cli", "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [*cmd, "--database", database], env=env, stdout=subprocess.DEVNULL
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise SystemExit("chinwag serve did not start")
            time.sleep(0.1)

    def cpu(self) -> tuple[float, float]:
        return cpu_seconds(self.proc.pid)

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def serving(database: str, src: Path = SRC, **settings: str) -> Iterator[Server]:
    server = Server(database, src, **settings)
    try:
        yield server
    finally:
        server.stop()


class Channel:
    """A service and a channel with members, and what a client needs to follow it."""

    def __init__(self, path: str, list_sid: str, tokens: list[str]) -> None:
        self.path = path
        self.list_sid = list_sid
        self.document_sid = objects.channel_document(path.split("/")[-2]).sid
        self.tokens = tokens

    @classmethod
    async def make(cls, server: Server, database: str, members: int) -> Channel:
        key = await _key(database)
        shape = argparse.Namespace(subscribers=members)
        path, list_sid, tokens = await make_channel(shape, server, key)  # type: ignore[arg-type]
        return cls(path, list_sid, tokens)


@contextlib.asynccontextmanager
async def clients(
    server: Server, channel: Channel, tokens: list[str], *, sdk: bool
) -> AsyncIterator[Swarm]:
    extra: dict[str, Any] = {"sdk": sdk}
    if sdk:
        extra["document_sid"] = channel.document_sid
    async with Swarm.running(server, channel.list_sid, tokens, **extra) as swarm:
        yield swarm


async def burst(
    poster: Poster, swarms: list[Swarm], watched: list[Server], messages: int
) -> dict[str, float]:
    """``messages`` creates at once; deliveries, wall seconds and the servers' CPU."""
    results = [await swarm.expect(messages, 120) for swarm in swarms]
    before = [s.cpu() for s in watched]
    start = time.perf_counter()
    await asyncio.gather(*(poster.post("burst") for _ in range(messages)))
    got = [await r for r in results]
    after = [s.cpu() for s in watched]
    cpu = sum(sum(a) - sum(b) for a, b in zip(after, before, strict=True))
    seconds = max(g["last"] for g in got) - start
    deliveries = sum(g["deliveries"] for g in got)
    if not all(g["complete"] for g in got):
        print(f"  (incomplete burst: {deliveries} deliveries)", file=sys.stderr)
    return {"deliveries": deliveries, "seconds": seconds, "cpu": cpu}


_databases = itertools.count(1)


def fresh_database(tmp: str, name: str, base: str | None) -> str:
    """A new SQLite file, or a new PostgreSQL database next to ``base``."""
    name = f"{name}{next(_databases)}"
    if base is None:
        return f"sqlite:///{tmp}/{name}.db"
    db = f"cw_live_{name}_{os.getpid()}"
    admin = base.rsplit("/", 1)[0]
    subprocess.run(
        ["psql", f"{admin}/postgres", "-qc", f"create database {db}"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return f"{admin}/{db}"


# --- part 1: cheaper frames ------------------------------------------------------------------


async def frames(args: argparse.Namespace, tmp: str) -> dict[str, Any]:
    variants: list[tuple[str, Path, dict[str, str], bool]] = [
        ("this tree, compression off", SRC, {"gateway_compression": "false"}, True),
        ("this tree, compression on", SRC, {"gateway_compression": "true"}, True),
    ]
    if args.before:
        variants += [
            ("before, clients without acks", args.before, {}, False),
            ("before, SDK clients", args.before, {}, True),
        ]
    per_cpu: dict[str, list[float]] = {name: [] for name, *_ in variants}
    system: dict[str, list[float]] = {name: [] for name, *_ in variants}
    for round_ in range(args.rounds):
        order = variants if round_ % 2 == 0 else variants[::-1]
        for name, src, settings, sdk in order:
            database = fresh_database(tmp, "frames", None)
            with serving(database, src, **settings) as server:
                channel = await Channel.make(server, database, args.receivers)
                poster = Poster(server.port, channel.path)
                async with clients(server, channel, channel.tokens, sdk=sdk) as swarm:
                    await burst(poster, [swarm], [server], 5)  # warm-up
                    before = server.cpu()
                    got = await burst(poster, [swarm], [server], args.burst)
                    after = server.cpu()
                poster.close()
            rate = got["deliveries"] / got["cpu"] if got["cpu"] else 0.0
            per_cpu[name].append(rate)
            system[name].append((after[1] - before[1]) / max(got["cpu"], 1e-9))
            print(f"  frames round {round_ + 1}: {name}: {rate:,.0f} per CPU-s", file=sys.stderr)
    return {
        name: {
            "per_cpu_s": statistics.median(values),
            "min": min(values),
            "max": max(values),
            "kernel_share": round(statistics.median(system[name]), 2),
        }
        for name, values in per_cpu.items()
    }


# --- part 2: REST is never starved ----------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


async def wrk_creates(base: str, path: str, seconds: float) -> tuple[float, float]:
    """REST creates per second and their p99 (ms) under ``wrk -t1 -c16``."""
    import base64

    auth = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    script = (
        'wrk.method = "POST"\nwrk.body = "Body=load"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Authorization"] = "Basic {auth}"\n'
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    proc = await asyncio.create_subprocess_exec(
        "wrk", "-t1", "-c16", f"-d{max(1, round(seconds))}s", "--latency", "-s", lua.name,
        base + path, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    os.unlink(lua.name)
    text = out.decode()
    if "Non-2xx" in text:
        raise SystemExit(f"wrk saw failed creates:\n{text}")
    match = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    p99 = float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")
    return float(text.split("Requests/sec:")[1].split()[0]), p99


async def probe_health(base: str, until: float) -> list[float]:
    """``/healthz`` round trips (ms) every 20 ms on one keep-alive connection."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    request = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    times = []
    while time.perf_counter() < until:
        at = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        times.append((time.perf_counter() - at) * 1000)
        await asyncio.sleep(0.02)
    writer.close()
    return times


async def loaded_phase(server: Server, path: str, seconds: float) -> dict[str, float]:
    until = time.perf_counter() + seconds + 0.5
    probe = asyncio.ensure_future(probe_health(server.base, until))
    cpu, started = server.cpu(), time.perf_counter()
    rate, p99 = await wrk_creates(server.base, path, seconds)
    share = (sum(server.cpu()) - sum(cpu)) / (time.perf_counter() - started)
    health = await probe
    return {
        "creates_per_s": rate,
        "server_cpu_share": share,
        "creates_per_server_cpu_s": rate / share if share else 0.0,
        "create_p99_ms": p99,
        "healthz_p50_ms": statistics.median(health),
        "healthz_p99_ms": sorted(health)[int(0.99 * (len(health) - 1))],
        "healthz_max_ms": max(health),
    }


async def rest(args: argparse.Namespace, tmp: str) -> dict[str, Any]:
    """Each round measures every tree (in turn, the order reversed every other round); each
    figure reported is the median of the rounds' figures (``healthz_max_ms``: the largest)."""
    trees = [("this tree", SRC)] + ([("before", args.before)] if args.before else [])
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in trees}
    for round_ in range(args.rounds):
        for name, src in trees if round_ % 2 == 0 else trees[::-1]:
            database = fresh_database(tmp, "rest", args.database)
            with serving(database, src) as server:
                channel = await Channel.make(server, database, args.rest_receivers)
                alone = await loaded_phase(server, channel.path, args.rest_seconds)
                async with clients(server, channel, channel.tokens, sdk=True):
                    loaded = await loaded_phase(server, channel.path, args.rest_seconds)
            loaded["sends_ratio"] = loaded["creates_per_s"] / alone["creates_per_s"]
            loaded["sends_per_cpu_ratio"] = (
                loaded["creates_per_server_cpu_s"] / alone["creates_per_server_cpu_s"]
            )
            runs[name].append({"alone": alone, "receivers": loaded})
            print(
                f"  rest round {round_ + 1}: {name}: {alone['creates_per_s']:,.0f} creates/s "
                f"alone, {loaded['creates_per_s']:,.0f} with receivers (ratio "
                f"{loaded['sends_ratio']:.3f}), create p99 {loaded['create_p99_ms']:.1f} ms, "
                f"/healthz p99 {loaded['healthz_p99_ms']:.1f} ms",
                file=sys.stderr,
            )
    return {
        name: {
            phase: {
                key: (max if key == "healthz_max_ms" else statistics.median)(
                    run[phase][key] for run in measured
                )
                for key in measured[0][phase]
            }
            for phase in ("alone", "receivers")
        }
        for name, measured in runs.items()
    }


# --- part 3: memory per idle connection ------------------------------------------------------


async def memory(args: argparse.Namespace, tmp: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for compression in ("false", "true"):
        database = fresh_database(tmp, f"memory{compression}", None)
        room = str(args.connections + 100)
        settings = {
            "gateway_compression": compression,
            "gateway_max_connections_per_identity": room,
            "gateway_max_connections": room,
            "gateway_max_pending_per_address": room,
            "gateway_init_timeout": "120",
            "gateway_upstream_rate": "1000",
            "max_connections": "100",  # the sockets leave the HTTP count once upgraded
        }
        with serving(database, SRC, **settings) as server:
            channel = await Channel.make(server, database, 1)
            async with clients(server, channel, channel.tokens, sdk=True):  # warm-up
                pass
            await asyncio.sleep(1)
            before = server.rss_mib()
            tokens = channel.tokens * args.connections
            started = time.perf_counter()
            async with clients(server, channel, tokens, sdk=True):
                took = time.perf_counter() - started
                await asyncio.sleep(2)
                after = server.rss_mib()
        per = (after - before) * 1024 / args.connections
        out[compression] = {
            "connections": args.connections,
            "rss_before_mib": before,
            "rss_after_mib": after,
            "kib_per_connection": per,
            "connect_seconds": took,
        }
        print(f"  memory: compression {compression}: {out[compression]}", file=sys.stderr)
    return out


# --- part 4: scale out ------------------------------------------------------------------------


async def scale(args: argparse.Namespace, tmp: str) -> dict[str, Any]:
    if not args.redis_url:
        raise SystemExit("--only scale needs --redis-url")
    out: dict[str, Any] = {}
    for count in args.gateways:
        database = fresh_database(tmp, f"scale{count}", args.database)
        shared = {"redis_url": args.redis_url}
        with contextlib.ExitStack() as stack:
            api = stack.enter_context(serving(database, SRC, **shared))
            gateways = [stack.enter_context(serving(database, SRC, **shared)) for _ in range(count)]
            channel = await Channel.make(api, database, args.scale_receivers)
            poster = Poster(api.port, channel.path)
            share = len(channel.tokens) // count
            async with contextlib.AsyncExitStack() as swarms:
                running = [
                    await swarms.enter_async_context(
                        clients(g, channel, channel.tokens[i * share : (i + 1) * share], sdk=False)
                    )
                    for i, g in enumerate(gateways)
                ]
                await burst(poster, running, gateways, 5)  # warm-up
                rates, per_cpu, shares = [], [], []
                for _ in range(args.rounds):
                    got = await burst(poster, running, gateways, args.scale_burst)
                    rates.append(got["deliveries"] / got["seconds"])
                    per_cpu.append(got["deliveries"] / got["cpu"] if got["cpu"] else 0.0)
                    shares.append(got["cpu"] / got["seconds"])
            poster.close()
        out[str(count)] = {
            "deliveries_per_s": statistics.median(rates),
            "rounds": rates,
            "deliveries_per_gateway_cpu_s": statistics.median(per_cpu),
            "gateway_cpu_share": statistics.median(shares),
        }
        print(f"  scale: {count} gateway process(es): {out[str(count)]}", file=sys.stderr)
    one = out[str(args.gateways[0])]["deliveries_per_s"]
    for figures in out.values():
        figures["ratio_to_one"] = figures["deliveries_per_s"] / one
    return out


# --- the table ----------------------------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "missed")


def table(results: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str]] = []
    if "frames" in results:
        f = results["frames"]
        off = f["this tree, compression off"]["per_cpu_s"]
        rows.append(("deliveries / server CPU-s, SDK clients, no compression", f"{off:,.0f}",
                     ">= 150,000", verdict(off >= 150_000)))  # fmt: skip
        on = f["this tree, compression on"]["per_cpu_s"]
        rows.append(("  the same, compression on", f"{on:,.0f}", "(figure)", "n/a"))
        for name in ("before, clients without acks", "before, SDK clients"):
            if name in f:
                rows.append((f"  {name}", f"{f[name]['per_cpu_s']:,.0f}", "(figure)", "n/a"))
                rows.append((f"  this tree off / {name}", f"{off / f[name]['per_cpu_s']:.2f}",
                             "(ratio)", "n/a"))  # fmt: skip
    if "rest" in results:
        r = results["rest"]["this tree"]
        loaded = r["receivers"]
        rows.append(("REST create p99 with receivers, sends flat out",
                     f"{loaded['create_p99_ms']:.1f} ms", "< 50 ms",
                     verdict(loaded["create_p99_ms"] < 50)))  # fmt: skip
        rows.append(("/healthz p99 / max meanwhile",
                     f"{loaded['healthz_p99_ms']:.1f} / {loaded['healthz_max_ms']:.1f} ms",
                     "< 50 ms", verdict(loaded["healthz_p99_ms"] < 50)))  # fmt: skip
        rows.append(("sends with receivers / sends with none", f"{loaded['sends_ratio']:.2f}",
                     ">= 0.25", verdict(loaded["sends_ratio"] >= 0.25)))  # fmt: skip
        rows.append(("  the same per server CPU-second (what the server spends)",
                     f"{loaded['sends_per_cpu_ratio']:.2f}", "(figure)", "n/a"))  # fmt: skip
        rows.append(("  server CPU share alone / with receivers",
                     f"{r['alone']['server_cpu_share']:.2f} / {loaded['server_cpu_share']:.2f}",
                     "(figure)", "n/a"))  # fmt: skip
        if "before" in results["rest"]:
            b = results["rest"]["before"]["receivers"]
            rows.append(("  before: sends ratio (per CPU-s), create p99, /healthz p99",
                         f"{b['sends_ratio']:.2f} ({b['sends_per_cpu_ratio']:.2f}), "
                         f"{b['create_p99_ms']:.1f} ms, {b['healthz_p99_ms']:.1f} ms",
                         "(figure)", "n/a"))  # fmt: skip
    if "memory" in results:
        m = results["memory"]
        for key, label in (("false", "off"), ("true", "on")):
            rows.append((f"RSS per idle SDK connection, compression {label}",
                         f"{m[key]['kib_per_connection']:.1f} KiB", "(figure)", "n/a"))  # fmt: skip
        worst = max(m[k]["rss_after_mib"] for k in m)
        n = m["false"]["connections"]
        rows.append((f"{n:,} SDK connections, one process (worse setting)", f"{worst:.0f} MiB",
                     "< 1024 MiB", verdict(worst < 1024 if n >= 10_000 else None)))  # fmt: skip
    if "scale" in results:
        s = results["scale"]
        for count, figures in s.items():
            ratio = figures["ratio_to_one"]
            rows.append((f"deliveries / s, {count} gateway process(es) + API process",
                         f"{figures['deliveries_per_s']:,.0f} ({ratio:.2f}x); gateways at "
                         f"{figures['gateway_cpu_share']:.2f} CPU, "
                         f"{figures['deliveries_per_gateway_cpu_s']:,.0f} per CPU-s",
                         ">= 1.8x at 2" if count == "2" else "(figure)",
                         verdict(ratio >= 1.8) if count == "2" else "n/a"))  # fmt: skip
    width = max(len(r[0]) for r in rows)
    lines = [f"{'goal':{width}} | figure | target | verdict", "-" * (width + 40)]
    lines += [f"{a:{width}} | {b} | {c} | {d}" for a, b, c, d in rows]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"setup": {"cpus": os.cpu_count(), "loadavg": []}}
    parts = {"frames": frames, "rest": rest, "memory": memory, "scale": scale}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only or list(parts):
            results["setup"]["loadavg"].append((name, os.getloadavg()[0]))
            results[name] = await parts[name](args, tmp)
    return results


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--only", action="append", choices=("frames", "rest", "memory", "scale"))
    parser.add_argument("--before", type=Path, help="another tree's src, measured alongside")
    parser.add_argument("--this", type=Path, help="the tree measured as this one (default: here)")
    parser.add_argument("--database", help="PostgreSQL base URL for rest/scale (else SQLite)")
    parser.add_argument("--redis-url", help="Redis for the scale part")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--receivers", type=int, default=500)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--rest-receivers", type=int, default=100)
    parser.add_argument("--rest-seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--gateways", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--scale-receivers", type=int, default=1000)
    parser.add_argument("--scale-burst", type=int, default=100)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE",
        help="a chinwag setting for every server of the run (gateway_write_timeout=10)",
    )  # fmt: skip
    args = parser.parse_args()
    for pair in args.set:
        name, _, value = pair.partition("=")
        EXTRA[name] = value
    if args.before is not None and (args.before / "src").is_dir():
        args.before = args.before / "src"
    if args.this is not None:
        global SRC
        SRC = args.this / "src" if (args.this / "src").is_dir() else args.this
    return args


if __name__ == "__main__":
    arguments = parse_args()
    figures = asyncio.run(main(arguments))
    print(table(figures))
    if arguments.json:
        arguments.json.write_text(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())

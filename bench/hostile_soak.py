#!/usr/bin/env python3
"""Hostile-client soak: the client door under clients that stall, against one ``chinwag serve``.

One server process (SQLite, default settings but for the ones named below) holds, for
``--duration`` seconds:

- ``--stalled`` (1,000) clients that never read while messages flow: each completes ``init``
  (from its own loopback address, 127.1.x.y, as its own identity), subscribes to the messages
  of a busy channel (with ``--page N``, also asks for a page of N of its messages), and from
  then on reads nothing. Each one the server drops reconnects after a random delay of up to
  twice ``--reconnect`` seconds and does it again, so the pressure lasts the whole run.
- ``--pending`` (1,000) sockets that never send ``init`` (from 127.2.x.y), replaced as soon as
  the server closes one.

Both arrive over the first ``--ramp`` seconds (5), not in one burst: a burst of a thousand
WebSocket handshakes costs the server about a second of work whoever sends it, which the
report's first seconds show apart.
- ``--good`` (10) well-behaved, SDK-like clients (init with the SDK's registration, a Sync
  subscription, every notification acknowledged, pings answered) on a quiet channel.

Messages flow through REST all along: ``--flood-rate`` per second of ``--flood-bytes`` into the
busy channel, ``--rate`` per second into the quiet one, each carrying its send time. The report:

- the good clients' delivery latency (REST request sent -> notification received), p50/p99,
  before the attack and during it;
- the server's RSS over time (``VmRSS`` every second) and its growth over the quiet baseline;
- how long each stalled socket lived: a stalled reader from its last request (after which it
  reads nothing) until the server dropped it, and from the moment the busy channel's messages
  since then fill what the server lets it hold (the kernel's send buffer, capped at a quarter
  of ``gateway_max_buffered_bytes`` and accounted twice by Linux, the transport's 64 KiB, the
  client's receive buffer, one message); a pending socket from its handshake until it was
  closed. Bounds: ``gateway_write_timeout`` for the former, ``gateway_init_timeout`` +
  ``gateway_write_timeout`` for the latter, with one second of slack each for scheduling.

The attackers run in a process of their own, at a lower priority (real attackers take no CPU
from the server), so the good clients' figures are the server's, not the bench's. The report
also gives the server's CPU time and the time it was ready to run but waited for a CPU (from
``/proc/PID/schedstat``): on a shared machine the latter, not the server's own work, can set
the tail. Goals: good p99 < 100 ms, RSS growth < 200 MB, every stalled socket closed within
its bound. Exit status 0 when all are met, 1 otherwise.

    .venv/bin/python bench/hostile_soak.py                      # 60 s, the defaults above
    .venv/bin/python bench/hostile_soak.py --duration 20 --stalled 200 --pending 200   # quick

The bench process raises its open-file limit to the hard limit (``ulimit -n``): it holds
2,000+ sockets, and so does the server.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop
from gateway import raise_file_limit, rss_mib, start_server  # the gateway bench's helpers
from hostile_attackers import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    INIT_TIMEOUT,
    SLACK,
    WRITE_TIMEOUT,
    Lifetimes,
    World,
    ack_frame,
    init_frame,
    run_attack,
    subscribe_frame,
    token,
    traffic,
)
from websockets.asyncio.client import ClientConnection, connect

from chinwag.realtime.sync import objects
from chinwag.realtime.twilsock.codec import decode


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# --- the server's state -------------------------------------------------------------------------


def build_world(base: str, args: argparse.Namespace) -> World:
    with httpx.Client(base_url=base, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=60) as http:
        service = http.post("/v1/Services", data={"FriendlyName": "soak"}).json()["sid"]
        http.post(f"/v1/Services/{service}", data={"Limits.ChannelMembers": 1000})
        channels = f"/v1/Services/{service}/Channels"
        busy = http.post(channels, data={"UniqueName": "busy"}).json()["sid"]
        quiet = http.post(channels, data={"UniqueName": "quiet"}).json()["sid"]
        for n in range(args.stalled):
            http.post(f"{channels}/{busy}/Members", data={"Identity": f"stalled{n}"})
        for n in range(args.good):
            http.post(f"{channels}/{quiet}/Members", data={"Identity": f"good{n}"})
        for n in range(max(args.page, 1)):
            body = f"{n:04d}" + "b" * (args.flood_bytes - 4)
            http.post(f"{channels}/{busy}/Messages", data={"Body": body})
    return World(
        base,
        service,
        busy,
        quiet,
        objects.messages_list(busy).sid,
        objects.messages_list(quiet).sid,
    )


# --- the well-behaved clients and the traffic ---------------------------------------------------


@dataclass
class Deliveries:
    #: phase -> latencies in ms (REST request sent -> notification received)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    phase: str = "baseline"
    lost: int = 0  # good connections the server closed (must stay 0)


async def good_client(
    n: int, world: World, url: str, sent: dict[str, float], deliveries: Deliveries,
    ready: asyncio.Event,
) -> None:  # fmt: skip
    ws: ClientConnection = await connect(url, compression=None, max_size=None)
    jwt = token(world.service, f"good{n}")
    await ws.send(init_frame(jwt))
    assert decode(await ws.recv()).header["status"]["code"] == 200  # type: ignore[arg-type]
    await ws.send(subscribe_frame(world.quiet_list, "TMsub"))
    try:
        async for data in ws:
            received = time.monotonic()
            frame = decode(data)  # type: ignore[arg-type]
            header = frame.header
            if header["method"] != "notification":
                continue
            await ws.send(ack_frame(header["id"]))
            event = orjson.loads(frame.payload)
            if event.get("event_type") == "subscription_established":
                ready.set()
            elif event.get("event_type") == "list_item_added":
                text = event["event"]["item_data"]["text"]
                if text in sent:
                    phase = deliveries.latencies.setdefault(deliveries.phase, [])
                    phase.append((received - sent[text]) * 1000)
    except Exception:  # the server closed a good client: counted, reported as a failure
        deliveries.lost += 1


def cpu_seconds(pid: int) -> tuple[float, float]:
    """Seconds the process ran on a CPU, and waited for one while ready to run, so far."""
    ran, waited, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
    return int(ran) / 1e9, int(waited) / 1e9


Sample = tuple[float, float, float, float]  # seconds since start, RSS MiB, CPU s, waiting s


async def sample_rss(pid: int, samples: list[Sample], stop: asyncio.Event) -> None:
    """The server's RSS and CPU figures every second."""
    start = time.monotonic()
    while not stop.is_set():
        samples.append((time.monotonic() - start, rss_mib(pid), *cpu_seconds(pid)))
        await asyncio.sleep(1)


# --- the run ------------------------------------------------------------------------------------


async def soak(
    args: argparse.Namespace, proc: subprocess.Popen[bytes], world: World
) -> dict[str, Any]:
    host, _, port = world.base.removeprefix("http://").partition(":")
    address = (host, int(port))
    url = world.base.replace("http://", "ws://") + "/v3/wsconnect"
    sent: dict[str, float] = {}
    deliveries = Deliveries()
    rss: list[Sample] = []
    done = asyncio.Event()
    readies = [asyncio.Event() for _ in range(args.good)]
    background = [
        asyncio.create_task(good_client(n, world, url, sent, deliveries, readies[n]))
        for n in range(args.good)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
    background += [
        asyncio.create_task(sample_rss(proc.pid, rss, done)),
        asyncio.create_task(traffic(world, world.quiet, args.rate, "", done, sent=sent)),
    ]
    await asyncio.sleep(args.baseline)
    baseline_rss = max(sample[1] for sample in rss)
    deliveries.phase = "attack"
    attack_started = rss[-1][0]
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    attackers = context.Process(target=run_attack, args=(world, address, args, results))
    attackers.start()
    await asyncio.sleep(args.duration)
    deliveries.phase = "after"
    attack_ended = rss[-1][0]
    lifetimes = await asyncio.to_thread(results.get)
    attackers.join()
    await asyncio.sleep(args.cooldown)
    done.set()
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    return {
        "deliveries": deliveries,
        "lifetimes": lifetimes,
        "rss": rss,
        "baseline_rss": baseline_rss,
        "attack": (attack_started, attack_ended),
    }


def report(args: argparse.Namespace, result: dict[str, Any]) -> bool:
    deliveries: Deliveries = result["deliveries"]
    lifetimes: Lifetimes = result["lifetimes"]
    rss: list[Sample] = result["rss"]
    baseline = result["baseline_rss"]
    start, end = result["attack"]
    print(f"hostile soak: {args.stalled} stalled readers, {args.pending} sockets without init, "
          f"{args.good} good clients, {args.duration:.0f} s of attack; "
          f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    print("\nwell-behaved clients: delivery latency (REST request sent -> notification), ms")
    print("| phase | deliveries | p50 | p99 | max |\n|---|---|---|---|---|")
    for phase in ("baseline", "attack", "after"):
        values = deliveries.latencies.get(phase, [])
        print(f"| {phase} | {len(values)} | {pct(values, 0.5):.1f} | {pct(values, 0.99):.1f} | "
              f"{max(values, default=float('nan')):.1f} |")  # fmt: skip
    attack = deliveries.latencies.get("attack", [])
    print("\nserver RSS (MiB), and its CPU use and wait for a CPU (share of the time since the")
    print("row before) over time")
    print("| t (s) | RSS | CPU | waiting for a CPU |\n|---|---|---|---|")
    step = max(1, len(rss) // 20)
    shown = rss[::step]
    for (t, value, cpu, wait), (t0, _, cpu0, wait0) in zip(shown, [rss[0], *shown], strict=False):
        marker = " (attack)" if start <= t <= end else ""
        span = t - t0 if t > t0 else 1.0
        print(f"| {t:.0f}{marker} | {value:.0f} | {(cpu - cpu0) / span:.0%} | "
              f"{(wait - wait0) / span:.0%} |")  # fmt: skip
    peak = max(sample[1] for sample in rss)
    growth = peak - baseline
    print(f"baseline {baseline:.0f} MiB, peak {peak:.0f} MiB (+{growth:.0f}), "
          f"end {rss[-1][1]:.0f} MiB")  # fmt: skip
    print("\nstalled sockets: lifetime (s)")
    print("| kind | closed | p50 | p99 | max | bound |\n|---|---|---|---|---|---|")
    lived = [dropped - stopped for stopped, dropped in lifetimes.stalled]
    past, early = lifetimes.past_full(args)
    stalled_bound = WRITE_TIMEOUT + SLACK
    pending_bound = INIT_TIMEOUT + WRITE_TIMEOUT + SLACK
    for kind, values, bound in (
        ("reader that stopped reading, from its last request", lived, None),
        ("the same, from when the server held all it allows for it", past, stalled_bound),
        ("socket without init, from its handshake", lifetimes.pending, pending_bound),
    ):
        shown = "" if bound is None else f"{bound:.0f}"
        print(f"| {kind} | {len(values)} | {pct(values, 0.5):.2f} | {pct(values, 0.99):.2f} | "
              f"{max(values, default=float('nan')):.2f} | {shown} |")  # fmt: skip
    print(f"stalled readers dropped before their buffers filled (over the byte budget, or to "
          f"make room for newer sockets): {early}")  # fmt: skip
    print(f"handshakes or inits refused or failed: {lifetimes.refused}; "
          f"good clients closed by the server: {deliveries.lost}")  # fmt: skip
    checks = {
        "good p99 < 100 ms": bool(attack) and pct(attack, 0.99) < 100,
        "RSS growth < 200 MB": growth * 1.048576 < 200,
        "every stalled reader closed within its timeout": bool(past) and max(past) <= stalled_bound,
        "every socket without init closed within its timeout": bool(lifetimes.pending)
        and max(lifetimes.pending) <= pending_bound,
        "no good client lost": deliveries.lost == 0,
    }
    print("\n| goal | verdict |\n|---|---|")
    for goal, met in checks.items():
        print(f"| {goal} | {'met' if met else 'MISSED'} |")
    return all(checks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds of attack")
    parser.add_argument("--baseline", type=float, default=10, help="seconds before it")
    parser.add_argument("--cooldown", type=float, default=10, help="seconds after it")
    parser.add_argument("--stalled", type=int, default=1000)
    parser.add_argument("--pending", type=int, default=1000)
    parser.add_argument("--good", type=int, default=10)
    parser.add_argument("--rate", type=int, default=20, help="messages/s to the good clients")
    parser.add_argument("--flood-rate", type=int, default=5, help="messages/s to the stalled")
    parser.add_argument("--flood-bytes", type=int, default=20_000, help="their body size")
    parser.add_argument("--page", type=int, default=0, help="messages a stalled reader asks for")
    parser.add_argument("--reconnect", type=float, default=1.0, help="mean seconds between tries")
    parser.add_argument("--ramp", type=float, default=5.0, help="seconds the attackers arrive over")
    args = parser.parse_args()
    raise_file_limit()
    with tempfile.TemporaryDirectory() as directory:
        proc, base = start_server(directory)
        try:
            world = build_world(base, args)
            result = uvloop.run(soak(args, proc, world))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return 0 if report(args, result) else 1


if __name__ == "__main__":
    sys.exit(main())

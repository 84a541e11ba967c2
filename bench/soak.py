#!/usr/bin/env python3
"""Soak test: sustained mixed traffic against a real chinwag for a while, watching for leaks.

Starts ``chinwag serve`` on a fresh database, then runs a mix of mutations and reads from
several client threads (messages created, fetched, listed, edited and deleted; members added
and removed; channels created and deleted; user channel lists) until the time is up. It samples
the server's resident memory every few seconds and reports throughput, error counts and RSS at
start, middle and end. RSS must stay flat: the exit status is 1 if the last sample exceeds the
first steady-state sample by more than ``--max-growth`` percent, or if any request got a 5xx.

    .venv/bin/python bench/soak.py --duration 600                 # 10 minutes, SQLite
    .venv/bin/python bench/soak.py --database postgresql://postgres@127.0.0.1:5432/soak
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable

import httpx

SID = "AC" + "5" * 32
TOKEN = "soak-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Traffic:
    """One client thread's mix of operations on its own channels of a shared service."""

    def __init__(self, base: str, service: str, seed: int) -> None:
        self.client = httpx.Client(base_url=base, auth=(SID, TOKEN), timeout=30)
        self.service = f"/v1/Services/{service}"
        self.rng = random.Random(seed)
        self.names = itertools.count()
        self.seed = seed
        self.channel = self._new_channel()
        self.messages: list[str] = []

    def _new_channel(self) -> str:
        name = f"t{self.seed}-{next(self.names)}"
        response = self.client.post(f"{self.service}/Channels", data={"UniqueName": name})
        return str(response.json()["sid"]) if response.status_code == 201 else name

    def step(self) -> int:
        path = f"{self.service}/Channels/{self.channel}"
        roll = self.rng.random()
        if roll < 0.35:
            r = self.client.post(f"{path}/Messages", data={"Body": "x" * self.rng.randint(1, 400)})
            if r.status_code == 201:
                self.messages.append(r.json()["sid"])
        elif roll < 0.55 and self.messages:
            r = self.client.get(f"{path}/Messages/{self.rng.choice(self.messages)}")
        elif roll < 0.65:
            r = self.client.get(f"{path}/Messages", params={"PageSize": 50, "Order": "desc"})
        elif roll < 0.72 and self.messages:
            r = self.client.post(f"{path}/Messages/{self.messages[-1]}", data={"Body": "edited"})
        elif roll < 0.78 and self.messages:
            r = self.client.delete(f"{path}/Messages/{self.messages.pop()}")
        elif roll < 0.86:
            identity = f"u{self.rng.randint(0, 50)}"
            r = self.client.post(f"{path}/Members", data={"Identity": identity})
            if r.status_code == 409:
                r = self.client.delete(f"{path}/Members/{identity}")
        elif roll < 0.92:
            r = self.client.get(f"{self.service}/Users/u{self.rng.randint(0, 50)}/Channels")
        elif roll < 0.97:
            r = self.client.get(f"{self.service}/Channels", params={"PageSize": 20})
        else:  # rotate: drop this channel with everything in it, start a new one
            r = self.client.delete(path)
            self.channel, self.messages = self._new_channel(), []
        return r.status_code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=120, help="seconds of load")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database", help="default: a fresh SQLite file")
    parser.add_argument("--max-growth", type=float, default=20.0, help="RSS growth allowed, %%")
    args = parser.parse_args()
    database = args.database or f"sqlite:///{tempfile.mkdtemp()}/soak.db"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, CHINWAG_ACCOUNT_SID=SID, CHINWAG_AUTH_TOKEN=TOKEN)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chinwag.cli",
            "serve",
            "--port",
            str(port),
            "--database",
            database,
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        service = httpx.post(
            f"{base}/v1/Services", data={"FriendlyName": "soak"}, auth=(SID, TOKEN)
        ).json()["sid"]
        statuses: Counter[int] = Counter()
        lock = threading.Lock()
        stop = time.monotonic() + args.duration

        def run(seed: int) -> None:
            traffic = Traffic(base, service, seed)
            local: Counter[int] = Counter()
            while time.monotonic() < stop:
                local[traffic.step()] += 1
            with lock:
                statuses.update(local)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(args.threads)]
        started = time.monotonic()
        for t in threads:
            t.start()
        samples: list[tuple[float, int]] = []
        sample: Callable[[], None] = lambda: samples.append(  # noqa: E731
            (time.monotonic() - started, rss_kib(server.pid))
        )
        while any(t.is_alive() for t in threads):
            sample()
            time.sleep(min(5.0, max(0.5, args.duration / 20)))
        sample()
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    total = sum(statuses.values())
    errors = sum(n for s, n in statuses.items() if s >= 500)
    steady = samples[min(2, len(samples) - 1)][1]  # after warm-up: caches and pools filled
    growth = 100.0 * (samples[-1][1] - steady) / steady
    print(
        f"soak: {total:,} requests in {elapsed:.0f} s = {total / elapsed:,.0f} req/s, "
        f"{args.threads} threads, {database.split('://')[0]}"
    )
    print("statuses:", dict(sorted(statuses.items())))
    print(
        "RSS KiB (t s: KiB):",
        ", ".join(f"{t:.0f}: {k:,}" for t, k in samples[:: max(1, len(samples) // 8)]),
    )
    print(f"RSS start (steady) {steady:,} KiB, end {samples[-1][1]:,} KiB: {growth:+.1f}%")
    failed = errors > 0 or growth > args.max_growth
    print("soak:", "FAILED" if failed else "ok", f"({errors} server errors)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

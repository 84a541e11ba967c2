"""Sync delivery A/B: two source trees of chinwag, measured in one run, bursts interleaved.

    .venv/bin/python bench/sync_ab.py OTHER_SRC [--subscribers N] [--burst N] [--rounds N]

Starts two one-process servers on their own SQLite files: **this** tree (the one the bench
imports) and ``OTHER_SRC`` (a ``src`` directory: an older commit, an experiment). Each gets a
channel with ``--subscribers`` members, all connected from a ``sync_swarm.py`` process, and then
``--rounds`` throughput bursts (``sync_bench.py``'s) go to one server and then the other,
switching which goes first every round, so drift in the machine's load reaches both alike. The
figure to compare is **deliveries per server-CPU-second**: the CPU each server process used
during its own bursts, which other load on the machine changes much less than wall-clock rates.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
from typing import Any

from sync_bench import Poster, Server, Swarm, _key, _throughput, make_channel


async def _measure(args: argparse.Namespace, sides: dict[str, Server]) -> dict[str, Any]:
    figures: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
    async with contextlib.AsyncExitStack() as stack:
        ready = {}
        for name, server in sides.items():
            key = await _key(server.database)
            path, list_sid, tokens = await make_channel(args, server, key)
            swarm = await stack.enter_async_context(Swarm.running(server, list_sid, tokens))
            poster = Poster(server.port, path)
            stack.callback(poster.close)
            ready[name] = (server, poster, swarm)
        names = list(sides)
        for round_ in range(args.rounds):
            for name in names if round_ % 2 == 0 else reversed(names):
                server, poster, swarm = ready[name]
                figures[name].append(await _throughput(args, poster, swarm, [server]))
    this, other = (
        statistics.median(f["deliveries_per_server_cpu_s"] for f in figures[name]) for name in names
    )
    return {
        name: {
            "deliveries_per_server_cpu_s": [f["deliveries_per_server_cpu_s"] for f in runs],
            "deliveries_per_s": [f["deliveries_per_s"] for f in runs],
        }
        for name, runs in figures.items()
    } | {"this_over_other_median": round(this / other, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("other_src", help="the other tree's src directory")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument(
        "--other-script",
        help="serve the other tree with this program instead of chinwag serve (same arguments;"
        " bench/chinwag_bench/on_granian.py: the server question)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        sides = {}
        for name, src, script in (
            ("this", None, None),
            ("other", args.other_src, args.other_script),
        ):
            server = Server(f"sqlite:///{tmp}/{name}.db", None, src, script)
            stack.callback(server.stop)
            sides[name] = server
        results = asyncio.run(_measure(args, sides))
    for name, value in results.items():
        print(f"{name:24} {value}")


if __name__ == "__main__":
    main()

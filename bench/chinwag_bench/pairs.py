"""``python -m bench.chinwag_bench.pairs``: two source trees measured at the same time.

On this kind of machine (a shared VM) the speed of the host drifts: the same server measured
twice a minute apart can differ by 30-70 %, which buries a 5 % change in a sequential A/B. Here
both trees' servers run at once, pinned to the same CPU, each loaded by its own wrk (both on
the other CPU): whatever the host does hits both alike, and the scheduler shares the CPU
between them, so the ratio of their req/s is the ratio of their costs per request. Absolute
req/s are about half of a lone server's and mean nothing; only B / A counts.

SQLite only, from one template database seeded with tree A's chinwag (the trees must share the
schema). Each round starts both servers afresh on their own copies; the trees swap ports and
start order every round.

``--server NAME=KEY`` serves tree NAME with another server of ``servers.SERVERS`` than
``chinwag`` (``chinwag serve``): ``chinwag_granian`` runs it on Granian (``on_granian.py``), so
``--tree uvicorn=. --tree granian=. --server granian=chinwag_granian`` compares the two servers
on one tree.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import tempfile
from pathlib import Path
from typing import Any

from .options import parse
from .procs import Launch, start, stop
from .runner import wrk
from .seed import build_template, fresh_copy
from .servers import CONFIGS, SERVERS

PATHS = {"fetch": "chinwag.fetch", "list": "chinwag.list", "create": "chinwag.create"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", required=True, help="NAME=PATH, twice: A, B")
    parser.add_argument("--only", action="append", choices=list(PATHS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32, help="per wrk (two run at once)")
    parser.add_argument(
        "--server", action="append", default=[], help="NAME=KEY: serve tree NAME with KEY"
    )
    args = parser.parse_args()
    if len(args.tree) != 2:
        parser.error("--tree twice: the A and the B tree")
    server_of = dict(s.partition("=")[::2] for s in args.server)
    if set(server_of.values()) - set(SERVERS):
        parser.error(f"--server: KEY is one of {', '.join(SERVERS)}")
    argv = [a for t in args.tree for a in ("--tree", t)]
    opts = parse([*argv, "--connections", str(args.connections), "--threads", "1"])
    a, b = opts.trees
    configs = {c.id: c for c in CONFIGS}
    with tempfile.TemporaryDirectory(prefix="chinwag-pairs-") as tmp:
        launch = Launch(Path(tmp), opts.baseline_dir / "apps", opts.pin, opts.pg_pool)
        lua = opts.baseline_dir / "bench.lua"
        info = build_template("sqlite", a, launch, None, opts.seed, 0)
        for path in args.only or list(PATHS):
            cfg = configs[PATHS[path]]
            ratios = []
            for rnd in range(1, args.rounds + 1):
                order = (a, b) if rnd % 2 else (b, a)
                runs = {
                    t.name: start(
                        SERVERS[server_of.get(t.name, "chinwag")],
                        t,
                        fresh_copy(info, launch.work, None, t.name),
                        launch,
                    )
                    for t in order
                }
                try:
                    url = {
                        name: f"http://127.0.0.1:{run.port}" + cfg.path.format(**info["ids"])
                        for name, run in runs.items()
                    }
                    for seconds in (2.0, args.duration):  # a discarded warm-up, then the run
                        with concurrent.futures.ThreadPoolExecutor(2) as pool:
                            futures = {
                                n: pool.submit(wrk, u, cfg, seconds, opts, lua)
                                for n, u in url.items()
                            }
                            res: dict[str, Any] = {n: f.result() for n, f in futures.items()}
                finally:
                    for run in runs.values():
                        stop(run)
                bad = {n: r["err_status"] + r["err_socket"] for n, r in res.items()}
                ratio = res[b.name]["rps"] / res[a.name]["rps"]
                ratios.append(ratio)
                print(
                    f"{path} round {rnd}: {a.name} {res[a.name]['rps']:,.0f} req/s, "
                    f"{b.name} {res[b.name]['rps']:,.0f} req/s, {b.name}/{a.name} {ratio:.3f}"
                    + (f"  ERRORS {bad}" if any(bad.values()) else ""),
                    flush=True,
                )
            print(
                f"{path}: {b.name}/{a.name} median {statistics.median(ratios):.3f} "
                f"(per round {min(ratios):.3f}-{max(ratios):.3f})",
                flush=True,
            )


if __name__ == "__main__":
    main()

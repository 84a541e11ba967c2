"""Command-line options, parsed into one typed value the runner and report read."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from .servers import ENGINES, OPS
from .trees import DEFAULT_NAME, Tree, check_unique, parse_tree

DEFAULT_BASELINE_DIR = Path("/work/shared/perf-baseline")
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432"
OTHER_LOAD_LIMIT = 0.15  # a run where other processes used more cores than this is noisy


@dataclass(frozen=True)
class Options:
    duration: float
    warmup: float
    rounds: int
    connections: int
    threads: int
    only: tuple[str, ...]
    engines: tuple[str, ...]
    extras: bool
    seed: int
    deep: int
    wait_quiet: float
    retry: int
    pin: bool
    profile: bool
    sync: bool
    quick: bool
    baseline_dir: Path
    pg_url: str
    pg_pool: int
    trees: tuple[Tree, ...]

    @property
    def multi(self) -> bool:
        """Several trees: series are named ``id@tree`` and the report compares them."""
        return len(self.trees) > 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.chinwag_bench",
        description="chinwag's speed table: create / fetch / list as ratios to same-run "
        "baselines, p50/p99 per path, and the Sync figures of bench/sync_bench.py.",
    )
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (10)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds, discarded (2)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    p.add_argument(
        "--only",
        action="append",
        choices=(*OPS, "sync"),
        default=[],
        help="measure only this path and its baselines, or only the Sync figures (repeatable)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke check: 1 round of 3 s, 1 s warm-up, no quiet-wait",
    )
    p.add_argument(
        "--engine",
        choices=(*ENGINES, "both"),
        default="both",
        help="chinwag's database(s); PostgreSQL adds the asyncpg create row (both)",
    )
    p.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="a chinwag source tree to measure (a checkout or its src folder); repeat for A/B: "
        "all trees run interleaved against the same baselines and the report gives B/A per path "
        "(default: the chinwag this interpreter imports)",
    )
    p.add_argument(
        "--extras",
        action="store_true",
        help="also PG fetch/list and the Starlette references of earlier runs",
    )
    p.add_argument("--seed", type=int, default=1000, help="messages in the hot channel (1000)")
    p.add_argument(
        "--deep",
        type=int,
        default=0,
        help="messages in a deep channel; > 1 adds the deep-page list (0: off)",
    )
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=None,
        metavar="S",
        help="before each measurement wait up to S seconds for idle CPUs "
        "(60, --quick 0; 0: do not wait)",
    )
    p.add_argument(
        "--retry",
        type=int,
        default=1,
        help=f"measure again up to N times when other processes used more than "
        f"{OTHER_LOAD_LIMIT:.0%} of a CPU during a measurement (1; 0: off)".replace("%", "%%"),
    )
    p.add_argument("--no-pin", dest="pin", action="store_false", help="no taskset pinning")
    p.add_argument(
        "--profile",
        action="store_true",
        help="1 round, chinwag only, under py-spy: hotspots, no ratios",
    )
    p.add_argument("--no-sync", dest="sync", action="store_false", help="skip sync_bench.py")
    p.add_argument("--baseline-dir", type=Path, default=DEFAULT_BASELINE_DIR)
    p.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"PostgreSQL server ({DEFAULT_PG_URL})")
    p.add_argument(
        "--pg-pool", type=int, default=10, help="PostgreSQL pool per server, both sides (10)"
    )
    return p


def parse(argv: list[str] | None = None) -> Options:
    p = parser()
    a = p.parse_args(argv)
    if a.seed < 1:
        p.error("--seed must be at least 1 (the fetch target is one of the seeded messages)")
    if a.rounds < 1 or a.duration <= 0:
        p.error("--rounds must be at least 1 and --duration positive")
    try:
        trees = [parse_tree(t) for t in a.tree] or [Tree(DEFAULT_NAME, None)]
        check_unique(trees)
    except ValueError as e:
        p.error(str(e))
    if a.quick:
        a.rounds, a.duration, a.warmup = 1, 3.0, 1.0
    if a.wait_quiet is None:
        a.wait_quiet = 0.0 if a.quick else 60.0
    if a.profile:
        # py-spy slows the server anyway: a quieter second attempt would not make it comparable
        a.rounds, a.sync, a.retry = 1, False, 0
    return Options(
        duration=a.duration,
        warmup=a.warmup,
        rounds=a.rounds,
        connections=a.connections,
        threads=a.threads,
        only=tuple(a.only),
        engines=ENGINES if a.engine == "both" else (a.engine,),
        extras=a.extras,
        seed=a.seed,
        deep=a.deep,
        wait_quiet=a.wait_quiet,
        retry=a.retry,
        pin=a.pin,
        profile=a.profile,
        sync=a.sync and (not a.only or "sync" in a.only),
        quick=a.quick,
        baseline_dir=a.baseline_dir.resolve(),
        pg_url=a.pg_url,
        pg_pool=a.pg_pool,
        trees=tuple(trees),
    )

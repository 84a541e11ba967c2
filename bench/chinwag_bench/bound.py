"""``python -m bench.chinwag_bench.bound``: the speed table measured in pairs, and its bound.

Each figure is a ratio to the bare baseline of the speed table (bare GET for fetch and list,
bare POST for create), measured as in ``pairs``: both servers at once on CPU 0, each under its
own wrk, so the host's drift hits both alike and the ratio of their req/s is the ratio of their
costs per request. Three servers are paired with the bare one, each in every round:

- ``chinwag``: chinwag as it serves (the table's ratio, without the drift);
- ``domain only``: chinwag's domain call and renderer with no HTTP layer at all
  (``domain_only.py``): the most any work on chinwag's HTTP layers could reach;
- ``bare on chinwag's server``: the bare app on chinwag's uvicorn configuration
  (``bare_on_chinwag.py``): what the server itself costs under chinwag, against plain uvicorn.

SQLite only, from one template database seeded by the tree; every server starts afresh on its
own copy in every round.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import tempfile
from pathlib import Path
from typing import Any

from .options import parse
from .procs import Launch, Running, start, stop
from .runner import wrk
from .seed import build_template, fresh_copy
from .servers import CONFIGS, FIXED, SERVERS, Config
from .targets import TARGETS

#: path -> (the chinwag config, the bare config it is a ratio to)
PATHS = {
    "fetch": ("chinwag.fetch", "raw.get"),
    "list": ("chinwag.list", "raw.get"),
    "create": ("chinwag.create", "raw.post"),
}
#: the servers paired with the bare one, and how the report names them
CONTENDERS = {
    "chinwag": "chinwag",
    "domain_only": "domain only (no HTTP layer)",
    "raw_on_chinwag": "bare on chinwag's server",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", help="NAME=PATH of the chinwag to measure (default: installed)")
    parser.add_argument("--only", action="append", choices=list(PATHS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32, help="per wrk (two run at once)")
    args = parser.parse_args()
    argv = ["--tree", args.tree] if args.tree else []
    opts = parse([*argv, "--connections", str(args.connections), "--threads", "1"])
    (tree,) = opts.trees
    configs = {c.id: c for c in CONFIGS}
    goals = {t.num: t for t in TARGETS if t.kind == "ratio"}
    with tempfile.TemporaryDirectory(prefix="chinwag-bound-") as tmp:
        launch = Launch(Path(tmp), opts.baseline_dir / "apps", opts.pin, opts.pg_pool)
        lua = opts.baseline_dir / "bench.lua"
        info = build_template("sqlite", tree, launch, None, opts.seed, 0)
        table: list[str] = []
        notes: list[str] = []
        for path in args.only or list(PATHS):
            mine, bare = configs[PATHS[path][0]], configs[PATHS[path][1]]
            ratios: dict[str, list[float]] = {name: [] for name in CONTENDERS}
            for rnd in range(1, args.rounds + 1):
                for name in CONTENDERS:
                    runs: dict[str, Running] = {}
                    try:
                        for key in ("raw", name) if rnd % 2 else (name, "raw"):
                            copy = fresh_copy(info, launch.work, None, key)
                            runs[key] = start(SERVERS[key], tree, copy, launch)
                        # the bare app on chinwag's server gets the bare app's request
                        theirs = (bare, FIXED) if name == "raw_on_chinwag" else (mine, info["ids"])
                        urls = {
                            "raw": _url(runs["raw"], bare, FIXED),
                            name: _url(runs[name], *theirs),
                        }
                        res = _together(urls, mine, opts, lua, args.duration)
                    finally:
                        for run in runs.values():
                            stop(run)
                    ratio = res[name]["rps"] / res["raw"]["rps"]
                    ratios[name].append(ratio)
                    bad = {n: r["err_status"] + r["err_socket"] for n, r in res.items()}
                    print(
                        f"{path} round {rnd}: bare {res['raw']['rps']:,.0f} req/s, "
                        f"{CONTENDERS[name]} {res[name]['rps']:,.0f} req/s, ratio {ratio:.3f}"
                        + (f"  ERRORS {bad}" if any(bad.values()) else ""),
                        flush=True,
                    )
            goal = goals.get(mine.id)
            medians = {name: statistics.median(values) for name, values in ratios.items()}
            for name, values in ratios.items():
                shown = goal.goal_text if goal and name != "raw_on_chinwag" else ""
                table.append(
                    f"| {path} | {CONTENDERS[name]} | **{medians[name]:.3f}** | "
                    f"{min(values):.3f}-{max(values):.3f} | {shown} |"
                )
            left = 1 - medians["chinwag"] / medians["domain_only"]
            notes.append(f"- {path}: the HTTP layers are {left:.0%} of chinwag's cost per request")
        print("\n| path | server | ratio to bare, median | per round | goal |")
        print("|---|---|---:|---:|---|")
        print("\n".join(table))
        print("\n" + "\n".join(notes))


def _url(run: Running, cfg: Config, ids: dict[str, str]) -> str:
    return f"http://127.0.0.1:{run.port}" + cfg.path.format(**ids)


def _together(
    urls: dict[str, str], cfg: Config, opts: Any, lua: Path, seconds: float
) -> dict[str, Any]:
    """A discarded 2 s warm-up, then the measurement: both wrk at once."""
    res: dict[str, Any] = {}
    for length in (2.0, seconds):
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futures = {n: pool.submit(wrk, u, cfg, length, opts, lua) for n, u in urls.items()}
            res = {n: f.result() for n, f in futures.items()}
    return res


if __name__ == "__main__":
    main()

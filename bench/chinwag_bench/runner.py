"""Running the measurements: rounds of wrk runs, interleaved, each on a freshly started server.

Round 1 runs every configuration (and every tree), then round 2, and so on, so machine drift
falls on all of them; with several trees their order flips every round, so neither always runs
first. Every measurement waits for quiet CPUs, starts its server on a fresh database copy, sends
one sanity request, a discarded warm-up, then the measured run, and checks the answers.
"""

from __future__ import annotations

import datetime
import json
import os
import resource
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import cpu
from . import profile as pyspy
from .options import OTHER_LOAD_LIMIT, Options
from .pg import Postgres, Scratch
from .procs import Client, Launch, Running, pin, serving
from .seed import count_rows, drop_copy, fresh_copy
from .servers import FIXED, SERVERS, WRK_AUTH, Config, key, select
from .targets import baseline_uses
from .trees import Tree, fingerprint

RESULTS = Path(__file__).resolve().parent.parent / "results"


@dataclass(frozen=True)
class Job:
    """One configuration of one tree (``tree`` is None for baselines)."""

    cfg: Config
    tree: Tree | None
    key: str


@dataclass
class Bench:
    """What every measurement of a run shares."""

    opts: Options
    launch: Launch
    pg: Postgres | None
    packages: dict[str, Path]  # tree name -> the chinwag package it imports
    fixtures: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def configs(opts: Options) -> list[Config]:
    """The configurations ``opts`` asks for, with the baselines they are compared with."""
    return select(
        list(opts.only), opts.engines, opts.extras, opts.deep, opts.profile, baseline_uses()
    )


def jobs(configs: list[Config], opts: Options, rnd: int) -> list[Job]:
    """A round's measurements in run order; trees alternate A B, B A, ... between rounds."""
    trees = list(opts.trees) if rnd % 2 else list(reversed(opts.trees))
    out = []
    for c in configs:
        if SERVERS[c.server].kind != "chinwag":
            out.append(Job(c, None, c.id))
            continue
        out += [Job(c, t, key(c.id, t.name if opts.multi else None)) for t in trees]
    return out


def wrk(url: str, cfg: Config, seconds: float, opts: Options, lua: Path) -> dict[str, Any]:
    """One wrk run (wrk pinned to CPU 1); its WRKJSON figures, req/s and wrk's own CPU."""
    env = dict(os.environ, WRK_AUTH=WRK_AUTH, WRK_METHOD=cfg.method, WRK_BODY=cfg.body or "")
    cmd = [*pin(1, opts.pin), "wrk", f"-t{opts.threads}", f"-c{opts.connections}"]
    cmd += [f"-d{seconds:g}s", "--timeout", "5s", "-s", str(lua), url]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    line = next((ln for ln in out.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"no WRKJSON line from wrk:\n{out}")
    res: dict[str, Any] = json.loads(line[len("WRKJSON ") :])
    res["rps"] = res["requests"] / (res["duration_us"] / 1e6)
    res["err_socket"] = sum(res[k] for k in ("err_connect", "err_read", "err_write", "err_timeout"))
    res["cmd"] = " ".join(cmd)
    res["wrk_cpu"] = round(used / (time.monotonic() - t0), 3)
    return res


def measure(job: Job, rnd: int, bench: Bench) -> dict[str, Any]:
    opts, cfg = bench.opts, job.cfg
    server = SERVERS[cfg.server]
    ids: dict[str, Any] = dict(FIXED)
    db: Scratch | None = None
    fixture: dict[str, Any] | None = None
    name = f"run_{job.key}_{rnd}".replace(".", "_").replace("@", "_")
    src = None
    if job.tree is not None:
        fixture = bench.fixtures[(server.engine, job.tree.name)]
        ids = fixture["ids"]
        src = fingerprint(bench.packages[job.tree.name])
        db = fresh_copy(fixture, bench.launch.work, bench.pg, name)
    elif server.pg:
        assert bench.pg is not None
        pg_db = bench.pg.create(name)  # empty: the app creates its tables at start-up
        db = Scratch(url=bench.pg.url(pg_db), pg_db=pg_db)
    try:
        waited = cpu.wait_quiet(opts.wait_quiet)
        with serving(server, job.tree, db, bench.launch) as run:
            res, warm = drive(job, run, cfg.path.format(**ids), bench)
        if fixture is not None and cfg.method == "POST":
            assert db is not None
            if db.path is not None:
                n = count_rows(db.path)
            else:
                assert bench.pg is not None and db.pg_db is not None
                n = bench.pg.count(db.pg_db)
            res["rows"] = n - fixture["template_rows"]
    finally:
        if db is not None:
            drop_copy(db, bench.pg)
    if "rows" in res:
        # every 2xx must be a committed row (in-flight requests at the end may add a few more):
        # the sanity request, the warm-up's and the measured run's
        ok = 1 + res["requests"] - res["err_status"]
        ok += (warm["requests"] - warm["err_status"]) if warm else 0
        res["responses_2xx_total"] = ok
        res["rows_ok"] = res["rows"] >= ok
    res |= {"key": job.key, "config": cfg.id, "round": rnd, "warmup": warm}
    res |= {"tree": job.tree.name if job.tree else None, "waited_quiet_s": waited}
    if src is not None:
        res["chinwag_src"] = src
    return res


def drive(
    job: Job, run: Running, path: str, bench: Bench
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Sanity request, warm-up, measured wrk run (with CPU accounting) on a running server."""
    opts, cfg = bench.opts, job.cfg
    lua = opts.baseline_dir / "bench.lua"
    url = f"http://127.0.0.1:{run.port}{path}"
    c = Client(run.port)
    status, sample = c.raw(cfg.method, path, {"Body": "hello"} if cfg.body else None)
    c.close()
    if status != cfg.status:
        raise RuntimeError(f"{job.key}: sanity {cfg.method} {path} -> {status}: {sample[:300]!r}")
    warm = wrk(url, cfg, opts.warmup, opts, lua) if opts.warmup > 0 else None
    sampling = None
    if opts.profile:
        raw = bench.launch.work / f"profile-{job.key}.txt"
        sampling = pyspy.start(run.proc.pid, opts.duration, raw, opts.pin)
    before = cpu.snapshot(run.proc.pid)
    res = wrk(url, cfg, opts.duration, opts, lua)
    res["cpu"] = cpu.usage(before, cpu.snapshot(run.proc.pid), res["wrk_cpu"])
    if sampling is not None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        res["profile"] = pyspy.finish(sampling, RESULTS / f"profile-{job.key}-{stamp}.txt")
    if SERVERS[cfg.server].counts and cfg.method == "POST":
        c = Client(run.port)
        res["rows"] = c.call("GET", "/_count")["messages"]
        c.close()
    res["server_cmd"] = " ".join(run.cmd)
    res["server_env"] = run.env
    res["response_bytes"] = len(sample)
    res["server_rss_kb"] = cpu.rss_kb(run.proc.pid)
    return res, warm


def run_rounds(
    configs: list[Config], bench: Bench, show: Callable[[Job, int, dict[str, Any], int], None]
) -> dict[str, list[dict[str, Any]]]:
    """Every round of every job; noisy runs are measured again (kept as ``discarded_noisy``)."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for rnd in range(1, bench.opts.rounds + 1):
        for job in jobs(configs, bench.opts, rnd):
            res = measure(job, rnd, bench)
            show(job, rnd, res, 0)
            discarded: list[dict[str, Any]] = []
            while res["cpu"]["other"] > OTHER_LOAD_LIMIT and len(discarded) < bench.opts.retry:
                discarded.append(res)
                res = measure(job, rnd, bench)
                show(job, rnd, res, len(discarded))
            if discarded:
                res["discarded_noisy"] = discarded
            runs.setdefault(job.key, []).append(res)
    return runs

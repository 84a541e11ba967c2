"""``python -m bench.chinwag_bench``: measure, print the speed table, keep the raw data.

Exit status: 0 when every measured target is met, 1 when one is missed (or a check failed),
2 when a prerequisite is missing.
"""

from __future__ import annotations

import datetime
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import cpu, environment, report, runner
from . import sync as sync_bench
from .options import Options, parse
from .pg import Postgres
from .procs import Launch
from .seed import build_template
from .servers import SERVERS
from .trees import fingerprint, imported_package


def show(job: runner.Job, rnd: int, res: dict[str, Any], retry: int) -> None:
    """One progress line per measurement."""
    c = res["cpu"]
    print(
        f"  round {rnd}{f' retry {retry}' if retry else ''} {job.key:<28} "
        f"{res['rps']:>9,.0f} req/s  p50 {res['lat_p50_us'] / 1e3:6.2f} ms  "
        f"p99 {res['lat_p99_us'] / 1e3:7.2f} ms  non-2xx {res['err_status']}  "
        f"sock {res['err_socket']}  server CPU {c['server']:.0%}"
        + (f"  PG {c['postgres']:.0%}" if c["postgres"] >= 0.01 else "")
        + f"  other {c['other']:.0%}"
        + (f"  (waited {res['waited_quiet_s']} s)" if res["waited_quiet_s"] else "")
        + ("" if res.get("rows_ok", True) else "  ROWS MISSING"),
        flush=True,
    )


def measure(opts: Options, meta: dict[str, Any], work: Path) -> report.Runs:
    """Templates, then every round; PostgreSQL scratch databases are dropped in any case."""
    configs = runner.configs(opts)
    if not configs:
        return {}
    pg = Postgres(opts.pg_url) if "postgresql" in opts.engines else None
    meta["machine"]["postgresql"] = pg.info() if pg is not None else None
    launch = Launch(work, opts.baseline_dir / "apps", opts.pin, opts.pg_pool)
    packages = {t.name: Path(meta["trees"][t.name]["package"]) for t in opts.trees}
    bench = runner.Bench(opts, launch, pg, packages)
    chinwag = len([c for c in configs if SERVERS[c.server].kind == "chinwag"])
    n = len(configs) + chinwag * (len(opts.trees) - 1)
    minutes = n * opts.rounds * (4 + opts.warmup + opts.duration) / 60
    print(f"bench: {n} measurements x {opts.rounds} rounds, ~{minutes:.1f} min + quiet-waits")
    try:
        engines = {SERVERS[c.server].engine for c in configs if SERVERS[c.server].kind == "chinwag"}
        for engine in sorted(engines):
            for t in opts.trees:
                fx = build_template(engine, t, launch, pg, opts.seed, opts.deep)
                bench.fixtures[(engine, t.name)] = fx
                print(f"bench: {engine} template of {t.name} ready in {fx['template_s']} s")
        meta["fixtures"] = [bench.fixtures[k] for k in sorted(bench.fixtures)]
        return runner.run_rounds(configs, bench, show)
    finally:
        if pg is not None:
            pg.cleanup()


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    problems = environment.problems(opts)
    if problems:
        print("bench: missing prerequisites:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    meta: dict[str, Any] = {"argv": sys.argv[1:] if argv is None else argv}
    meta["options"] = {k: str(v) for k, v in vars(opts).items()}
    meta["machine"] = environment.machine(None)
    meta["trees"] = {}
    for t in opts.trees:
        pkg = imported_package(t)
        git = environment.git_head(pkg)
        meta["trees"][t.name] = {"package": str(pkg), "fingerprint": fingerprint(pkg), "git": git}
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = stamp + ("-profile" if opts.profile else "")
    runner.RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chinwag-bench-") as tmp:
        runs = measure(opts, meta, Path(tmp))
        if opts.sync:
            meta["sync"] = {}
            for t in opts.trees:
                waited = cpu.wait_quiet(opts.wait_quiet)
                print(f"bench: sync_bench.py for {t.name} (waited {waited} s)", flush=True)
                out = runner.RESULTS / f"{name}-sync-{t.name}.json"
                meta["sync"][t.name] = sync_bench.run(t, out)
    text = report.markdown(runs, meta, opts)
    raw = {"meta": meta, "runs": [r for s in runs.values() for r in s]}
    (runner.RESULTS / f"{name}.json").write_text(json.dumps(raw, indent=1, default=str))
    (runner.RESULTS / f"{name}.md").write_text(text)
    print("\n" + text)
    print(f"bench: raw data in {runner.RESULTS / name}.json, report in {runner.RESULTS / name}.md")
    return report.exit_status(runs, opts)


if __name__ == "__main__":
    raise SystemExit(main())

"""From raw runs to the report: medians, same-run ratios, verdicts, A/B ratios, checks.

Everything here is pure (runs in, text or figures out) so it can be unit tested without wrk.
A run is the dict the runner records for one wrk measurement (``rps``, ``lat_p50_us``, ...);
a series is the list of runs of one key (``chinwag.fetch``, ``chinwag.fetch@B``, ``raw.get``)
over the rounds.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from .options import OTHER_LOAD_LIMIT, Options
from .servers import CONFIGS, SERVERS, key
from .sync import rows as sync_rows
from .targets import INFO_RATIOS, TARGETS, Target

Runs = dict[str, list[dict[str, Any]]]
LABELS = {c.id: c.label for c in CONFIGS}
ON_POSTGRES = {c.id for c in CONFIGS if SERVERS[c.server].engine == "postgresql"}


def median_rps(series: list[dict[str, Any]]) -> float:
    return float(statistics.median(r["rps"] for r in series))


def median_ms(series: list[dict[str, Any]], field: str) -> float:
    return float(statistics.median(r[field] for r in series)) / 1000


@dataclass(frozen=True)
class Ratio:
    value: float  # median(numerator) / median(denominator)
    per_round: list[float]  # the ratio inside each round both were measured in

    @property
    def span(self) -> str:
        return f"{min(self.per_round):.2f}-{max(self.per_round):.2f}" if self.per_round else "-"


def ratio(num: list[dict[str, Any]], den: list[dict[str, Any]]) -> Ratio:
    by_round = {r["round"]: r["rps"] for r in den}
    per = [r["rps"] / by_round[r["round"]] for r in num if r["round"] in by_round]
    return Ratio(median_rps(num) / median_rps(den), per)


@dataclass(frozen=True)
class Outcome:
    target: Target
    tree: str | None
    value: float
    per_round: list[float]
    met: bool


def evaluate(target: Target, runs: Runs, tree: str | None) -> Outcome | None:
    """The target's figure for one tree, or None when this run did not measure it."""
    num = runs.get(key(target.num, tree))
    if not num:
        return None
    if target.kind == "p99_ms":
        per = [r["lat_p99_us"] / 1000 for r in num]
        value = statistics.median(per)
    else:
        assert target.den is not None
        den = runs.get(target.den)
        if not den:
            return None
        r = ratio(num, den)
        value, per = r.value, r.per_round
    return Outcome(target, tree, value, per, target.met(value))


def outcomes(runs: Runs, trees: list[str | None]) -> list[Outcome]:
    return [o for t in trees for g in TARGETS if (o := evaluate(g, runs, t)) is not None]


def figure(o: Outcome) -> str:
    if o.target.kind == "p99_ms":
        return f"{o.value:.0f} ms"
    return f"{o.value:.3f}"


def span(o: Outcome) -> str:
    if not o.per_round:
        return "-"
    lo, hi = min(o.per_round), max(o.per_round)
    return f"{lo:.0f}-{hi:.0f} ms" if o.target.kind == "p99_ms" else f"{lo:.2f}-{hi:.2f}"


def latency(series: list[dict[str, Any]] | None) -> str:
    if not series:
        return "-"
    return f"{median_ms(series, 'lat_p50_us'):.1f} / {median_ms(series, 'lat_p99_us'):.1f}"


def speed_table(runs: Runs, tree: str | None) -> list[str]:
    lines = [
        "| path | today | goal | now | per round | met? | chinwag p50 / p99 ms "
        "| baseline p50 / p99 ms |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for g in TARGETS:
        o = evaluate(g, runs, tree)
        if o is None:
            lines.append(f"| {g.path} | {g.today} | {g.goal_text} | not measured | | | | |")
            continue
        base = latency(runs.get(g.den)) if g.den else ""
        lines.append(
            f"| {g.path} | {g.today} | {g.goal_text} | **{figure(o)}** | {span(o)} | "
            f"{'**yes**' if o.met else '**NO**'} | {latency(runs.get(key(g.num, tree)))} | "
            f"{base} |"
        )
    return lines


def ab_table(runs: Runs, a: str, b: str) -> list[str]:
    """B / A per chinwag path, both measured in the same rounds against the same baselines."""
    lines = [
        f"| path | {a} req/s | {b} req/s | {b} / {a} | per round | {a} p50 / p99 ms "
        f"| {b} p50 / p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for c in CONFIGS:
        if SERVERS[c.server].kind != "chinwag":
            continue
        sa, sb = runs.get(key(c.id, a)), runs.get(key(c.id, b))
        if not sa or not sb:
            continue
        r = ratio(sb, sa)
        lines.append(
            f"| {c.label} | {median_rps(sa):,.0f} | {median_rps(sb):,.0f} | **{r.value:.3f}** | "
            f"{r.span} | {latency(sa)} | {latency(sb)} |"
        )
    return lines


def series_table(runs: Runs) -> list[str]:
    lines = [
        "| series | req/s median | min-max | spread | µs/req | p50 ms | p99 ms | non-2xx "
        "| sock err | server CPU | PG CPU | other load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k, s in runs.items():
        rps = [r["rps"] for r in s]
        med = median_rps(s)
        lines.append(
            f"| {LABELS.get(s[0]['config'], k)} (`{k}`) | **{med:,.0f}** | "
            f"{min(rps):,.0f}-{max(rps):,.0f} | {(max(rps) - min(rps)) / med:.0%} | "
            f"{1e6 / med:.0f} | {median_ms(s, 'lat_p50_us'):.2f} | "
            f"{median_ms(s, 'lat_p99_us'):.2f} | {sum(r['err_status'] for r in s)} | "
            f"{sum(r['err_socket'] for r in s)} | "
            f"{statistics.median(r['cpu']['server'] for r in s):.0%} | "
            f"{statistics.median(r['cpu']['postgres'] for r in s):.0%} | "
            f"{statistics.median(r['cpu']['other'] for r in s):.0%} |"
        )
    return lines


def check_failures(runs: Runs) -> list[str]:
    """Runs whose figures cannot be trusted: errors, or creates answered but not committed."""
    out = []
    for k, s in runs.items():
        for r in s:
            where = f"`{k}` round {r['round']}"
            if r["err_status"]:
                out.append(f"{where}: {r['err_status']} non-2xx responses")
            if r["err_socket"]:
                out.append(f"{where}: {r['err_socket']} socket errors")
            if not r.get("rows_ok", True):
                out.append(f"{where}: {r['rows']} rows for {r['responses_2xx_total']} 2xx")
    return out


def checks(runs: Runs) -> list[str]:
    lines = []
    failures = check_failures(runs)
    lines.append(
        "Checks (no non-2xx, no socket errors, every 2xx create a committed row): "
        + ("all passed." if not failures else "**FAILED**: " + "; ".join(failures) + ".")
    )
    every = [r for s in runs.values() for r in s]
    noisy = [
        f"`{k}` round {r['round']} (other {r['cpu']['other']:.0%})"
        for k, s in runs.items()
        for r in s
        if r["cpu"]["other"] > OTHER_LOAD_LIMIT
    ]
    if len(noisy) == len(every) > 1:
        others = sorted(r["cpu"]["other"] for r in every)
        noisy = [f"**all {len(every)} runs** ({others[0]:.0%}-{others[-1]:.0%})"]
    lines.append(
        f"Other load above {OTHER_LOAD_LIMIT:.0%} of a core (suspect runs): "
        + ("; ".join(noisy) if noisy else "none")
        + "."
    )
    retried = [
        f"`{k}` round {r['round']} ({len(r['discarded_noisy'])}x)"
        for k, s in runs.items()
        for r in s
        if r.get("discarded_noisy")
    ]
    if retried:
        lines.append(
            "Measured again because of other load (the noisy attempts are in the JSON as "
            "`discarded_noisy`): " + "; ".join(retried) + "."
        )
    low = [
        f"`{k}` round {r['round']} ({r['cpu']['server']:.0%})"
        for k, s in runs.items()
        for r in s
        if r["cpu"]["server"] < 0.9 and r["config"] not in ON_POSTGRES
    ]
    pinned = [r for r in every if r["config"] not in ON_POSTGRES]
    if len(low) == len(pinned) > 1:
        shares = sorted(r["cpu"]["server"] for r in pinned)
        low = [f"**all {len(pinned)} runs** ({shares[0]:.0%}-{shares[-1]:.0%})"]
    if low:
        lines.append(
            "Server below 90 % of its core (not saturated: waiting on disk, or sharing its "
            "core with other processes): " + "; ".join(low) + "."
        )
    srcs: dict[str, set[str]] = {}
    for s in runs.values():
        for r in s:
            if "chinwag_src" in r:
                srcs.setdefault(r["tree"], set()).add(r["chinwag_src"])
    changed = [t for t, v in srcs.items() if len(v) > 1]
    if changed:
        lines.append(
            f"**Warning: chinwag's source changed during this run in tree(s) {', '.join(changed)}; "
            "their figures mix versions. Re-run on a stable tree.**"
        )
    return lines


def info_ratios(runs: Runs, tree: str | None) -> list[str]:
    out = []
    for num, den, desc in INFO_RATIOS:
        sn, sd = runs.get(key(num, tree)), runs.get(key(den, tree))
        if sn and sd:
            r = ratio(sn, sd)
            out.append(f"| {desc} | {r.value:.3f} | {r.span} |")
    if not out:
        return []
    return ["| ratio (no goal) | value | per round |", "|---|---:|---:|", *out]


def sync_section(sync: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["## Live path (Sync), from bench/sync_bench.py", ""]
    for tree, res in sync.items():
        name = f"`{tree}`: " if len(sync) > 1 else ""
        if "unavailable" in res:
            lines.append(f"{name}unavailable: {res['unavailable']}.")
            continue
        lines += [f"{name}`{res['cmd']}`", "", "| figure | value |", "|---|---:|"]
        lines += [f"| {k} | {v} |" for k, v in sync_rows(res["figures"])]
        lines.append("")
    return lines


def profiles(runs: Runs) -> list[str]:
    lines = []
    for k, s in runs.items():
        for r in s:
            prof = r.get("profile")
            if prof is None:
                continue
            lines += ["", f"### py-spy, `{k}` ({prof.get('samples', 0)} samples)", ""]
            if "error" in prof:
                lines.append(f"py-spy failed: {prof['error']}")
                continue
            lines += ["| self % | function |", "|---:|---|"]
            lines += [f"| {p} | `{f}` |" for f, p in prof["self_pct"][:15]]
            lines += ["", "| inclusive % | function |", "|---:|---|"]
            lines += [f"| {p} | `{f}` |" for f, p in prof["inclusive_pct"][:25]]
    return lines


def header(meta: dict[str, Any], opts: Options) -> list[str]:
    m = meta["machine"]
    lines = [
        f"# chinwag speed table, {m['date']}",
        "",
        f"Command: `{' '.join(['python -m bench.chinwag_bench', *meta.get('argv', [])])}`.",
        f"Machine: {m['nproc']} CPU ({m['cpu']}), {m['memory']}, kernel {m['kernel']}, "
        f"Python {m['python']}, SQLite {m['sqlite']}, {m['wrk']}.",
        f"Load: wrk -t{opts.threads} -c{opts.connections} -d{opts.duration:g}s after a "
        f"{opts.warmup:g} s warm-up, {opts.rounds} interleaved round(s), "
        f"{'server on CPU 0, wrk on CPU 1' if opts.pin else 'unpinned'}, every server started "
        f"fresh on a fresh database copy; quiet-wait up to {opts.wait_quiet:g} s. Ratios are "
        "median(chinwag) / median(baseline) of the same run; latencies are closed-loop with "
        f"{opts.connections} requests in flight.",
    ]
    pg = m.get("postgresql")
    if pg:
        lines.append(
            f"PostgreSQL {pg['server_version']} (fsync={pg['fsync']}, synchronous_commit="
            f"{pg['synchronous_commit']}), not pinned; pool {opts.pg_pool} on both sides."
        )
    if opts.profile:
        lines.append("**Profile run**: py-spy slows the server; req/s here are not comparable.")
    lines += ["", "Trees:"]
    for name, t in meta["trees"].items():
        git = t.get("git", {})
        dirty = " + uncommitted changes" if git.get("dirty") else ""
        lines.append(
            f"- `{name}`: {t['package']} (sources {t['fingerprint']}, "
            f"commit {git.get('commit', '?')[:10]}{dirty})"
        )
    return lines


def markdown(runs: Runs, meta: dict[str, Any], opts: Options) -> str:
    names = [t.name for t in opts.trees]
    trees: list[str | None] = list(names) if opts.multi else [None]
    lines = header(meta, opts)
    for t in trees:
        lines += ["", f"## Speed table{f' of `{t}`' if t else ''}", "", *speed_table(runs, t)]
        extra = info_ratios(runs, t)
        if extra:
            lines += ["", *extra]
    for b in names[1:]:
        lines += ["", f"## A/B: `{b}` / `{names[0]}`, same run", "", *ab_table(runs, names[0], b)]
    if runs:
        lines += ["", "## Every series", "", *series_table(runs), "", *checks(runs)]
    if meta.get("sync"):
        lines += ["", *sync_section(meta["sync"])]
    lines += profiles(runs)
    return "\n".join(lines).rstrip() + "\n"


def exit_status(runs: Runs, opts: Options) -> int:
    """1 when a measured target is missed or a check failed, else 0."""
    if opts.profile:
        return 0  # no baselines, and py-spy slows the server: nothing to judge
    trees: list[str | None] = [t.name for t in opts.trees] if opts.multi else [None]
    missed = any(not o.met for o in outcomes(runs, trees))
    return 1 if missed or check_failures(runs) else 0

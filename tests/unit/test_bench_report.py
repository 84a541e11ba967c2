"""The benchmark's pure parts: the speed table's verdicts, same-run ratios, A/B ordering and
the command line, checked on made-up runs (no wrk, no server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bench.chinwag_bench import cpu, report, runner, sync
from bench.chinwag_bench.options import Options, parse
from bench.chinwag_bench.servers import key
from bench.chinwag_bench.targets import TARGETS
from bench.chinwag_bench.trees import parse_tree

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def run(config: str, rnd: int, rps: float, p99_ms: float = 10.0, **extra: Any) -> dict[str, Any]:
    """One made-up wrk result, shaped as the runner records it."""
    return {
        "config": config,
        "round": rnd,
        "rps": rps,
        "lat_p50_us": 1000,
        "lat_p99_us": p99_ms * 1000,
        "err_status": 0,
        "err_socket": 0,
        "cpu": {"server": 1.0, "postgres": 0.0, "other": 0.0},
        "tree": None,
    } | extra


def series(config: str, *rps: float, p99_ms: float = 10.0) -> list[dict[str, Any]]:
    return [run(config, i + 1, r, p99_ms) for i, r in enumerate(rps)]


def table_runs(create: float, list_p99: float) -> report.Runs:
    return {
        "raw.get": series("raw.get", 10_000, 12_000, 11_000),
        "raw.post": series("raw.post", 8_000, 8_000, 8_000),
        "chinwag.fetch": series("chinwag.fetch", 7_000, 6_000, 8_000),
        "chinwag.list": series("chinwag.list", 2_000, 2_000, 2_000, p99_ms=list_p99),
        "chinwag.create": series("chinwag.create", create, create, create),
    }


def test_the_table_holds_the_issue_goals() -> None:
    goals = {t.path: (t.kind, t.num, t.den, t.goal) for t in TARGETS}
    assert goals == {
        "message create / bare POST": ("ratio", "chinwag.create", "raw.post", 0.40),
        "message fetch / bare GET": ("ratio", "chinwag.fetch", "raw.get", 0.60),
        "list 50 messages / bare GET": ("ratio", "chinwag.list", "raw.get", 0.15),
        "list 50 messages, p99 latency under that load": ("p99_ms", "chinwag.list", None, 100.0),
        "PostgreSQL create / minimal asyncpg handler": (
            "ratio",
            "chinwag_pg.create",
            "asyncpg.create",
            1.8,
        ),
    }


def test_a_ratio_meets_its_goal_at_the_goal_and_a_latency_only_under_it() -> None:
    create, _, _, p99, _ = TARGETS
    assert create.met(0.40) and not create.met(0.399)
    assert p99.met(99.9) and not p99.met(100.0)


def test_ratio_is_of_medians_and_per_round_pairs_the_same_round() -> None:
    r = report.ratio(series("a", 3, 6, 9), [run("b", 2, 3), run("b", 1, 1), run("b", 3, 9)])
    assert r.value == 6 / 3
    assert r.per_round == [3.0, 2.0, 1.0]
    assert r.span == "1.00-3.00"


def test_verdicts_and_latency_target() -> None:
    runs = table_runs(create=4_000, list_p99=80)
    got = {o.target.path: (round(o.value, 3), o.met) for o in report.outcomes(runs, [None])}
    assert got == {
        "message create / bare POST": (0.5, True),
        "message fetch / bare GET": (round(7_000 / 11_000, 3), True),
        "list 50 messages / bare GET": (round(2_000 / 11_000, 3), True),
        "list 50 messages, p99 latency under that load": (80.0, True),
    }


def options(*argv: str) -> Options:
    return parse(["--engine", "sqlite", *argv])


def test_markdown_shows_the_table_and_exit_status_follows_the_verdicts() -> None:
    opts = options()
    meta = {
        "machine": dict.fromkeys(("date", "nproc", "cpu", "memory", "kernel", "python"), "x")
        | {"sqlite": "3", "wrk": "wrk 4"},
        "trees": {"current": {"package": "/src/chinwag", "fingerprint": "abc", "git": {}}},
        "sync": {"current": {"unavailable": "this checkout's sync_bench.py has no --json option"}},
    }
    good = table_runs(create=4_000, list_p99=80)
    text = report.markdown(good, meta, opts)
    assert (
        "| message create / bare POST | 0.24 | >= 0.40 | **0.500** | 0.50-0.50 | **yes** |" in text
    )
    assert "| PostgreSQL create / minimal asyncpg handler | 1.39 | >= 1.80 | not measured |" in text
    assert "unavailable: this checkout's sync_bench.py has no --json option." in text
    assert report.exit_status(good, opts) == 0
    assert report.exit_status(table_runs(create=3_000, list_p99=80), opts) == 1
    assert report.exit_status(table_runs(create=4_000, list_p99=100), opts) == 1


def test_a_failed_check_fails_the_run() -> None:
    runs = table_runs(create=4_000, list_p99=80)
    runs["chinwag.create"][1] |= {"rows": 10, "responses_2xx_total": 12, "rows_ok": False}
    assert report.check_failures(runs) == ["`chinwag.create` round 2: 10 rows for 12 2xx"]
    assert report.exit_status(runs, options()) == 1


def test_ab_table_compares_trees_path_by_path() -> None:
    runs = {
        key("chinwag.fetch", "A"): series("chinwag.fetch", 1_000, 1_000),
        key("chinwag.fetch", "B"): series("chinwag.fetch", 1_100, 1_300),
        "raw.get": series("raw.get", 5_000, 5_000),
    }
    lines = report.ab_table(runs, "A", "B")
    assert lines[2] == (
        "| chinwag fetch message | 1,000 | 1,200 | **1.200** | 1.10-1.30 "
        "| 1.0 / 10.0 | 1.0 / 10.0 |"
    )
    assert len(lines) == 3  # baselines are shared, not compared


def test_series_keys_name_the_tree_of_chinwag_only() -> None:
    assert key("chinwag.fetch", "B") == "chinwag.fetch@B"
    assert key("chinwag_pg.create", "B") == "chinwag_pg.create@B"
    assert key("raw.get", "B") == "raw.get"
    assert key("chinwag.fetch", None) == "chinwag.fetch"


def test_trees_alternate_between_rounds_next_to_shared_baselines() -> None:
    opts = options("--only", "fetch", "--tree", f"A={REPO}", "--tree", f"B={REPO / 'src'}")
    configs = runner.configs(opts)
    assert [j.key for j in runner.jobs(configs, opts, 1)] == [
        "raw.get",
        "chinwag.fetch@A",
        "chinwag.fetch@B",
    ]
    assert [j.key for j in runner.jobs(configs, opts, 2)][1:] == [
        "chinwag.fetch@B",
        "chinwag.fetch@A",
    ]


def test_quick_mode_and_quiet_wait() -> None:
    quick = options("--quick")
    assert (quick.rounds, quick.duration, quick.warmup, quick.wait_quiet) == (1, 3.0, 1.0, 0.0)
    assert options("--quick", "--wait-quiet", "5").wait_quiet == 5.0
    assert options().wait_quiet == 60.0
    assert cpu.wait_quiet(0) == 0.0
    profile = options("--profile")
    assert (profile.rounds, profile.retry, profile.sync) == (1, 0, False)


def test_only_selects_a_path_with_its_baseline_and_skips_sync() -> None:
    opts = parse(["--only", "create"])
    assert [c.id for c in runner.configs(opts)] == [
        "raw.post",
        "chinwag.create",
        "asyncpg.create",
        "chinwag_pg.create",
    ]
    assert not opts.sync
    assert options("--only", "sync").sync
    assert runner.configs(options("--only", "sync")) == []


def test_a_baseline_runs_only_with_a_chinwag_path_compared_with_it() -> None:
    pg = [c.id for c in runner.configs(parse(["--engine", "postgresql"]))]
    assert pg == ["asyncpg.create", "chinwag_pg.create"]
    extras = [c.id for c in runner.configs(options("--only", "fetch", "--extras"))]
    assert extras == ["raw.get", "chinwag.fetch", "starlette.get"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--tree", "A"],
        ["--tree", "A=/nonexistent"],
        ["--tree", f"A={REPO}", "--tree", f"A={REPO}"],
        ["--tree", f"a b={REPO}"],
    ],
)
def test_bad_trees_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        options(*argv)
    assert e.value.code == 2
    assert "--tree" in capsys.readouterr().err


def test_a_tree_is_a_checkout_or_its_src() -> None:
    assert parse_tree(f"A={REPO}").src == REPO / "src"
    assert parse_tree(f"A={REPO / 'src'}").src == REPO / "src"
    env = parse_tree(f"A={REPO}").env({"PYTHONPATH": "/x"})
    assert env["PYTHONPATH"] == f"{REPO / 'src'}:/x"


def test_sync_results_or_the_reason_they_are_missing(tmp_path: Path) -> None:
    out = tmp_path / "sync.json"
    missing = sync.outcome(2, "sync_bench.py: error: unrecognized arguments: --json x\n", out)
    assert missing == {"unavailable": "this checkout's sync_bench.py has no --json option"}
    assert sync.outcome(1, "boom\nSystemExit: wrk saw failed creates\n", out) == {
        "unavailable": "sync_bench.py exited 1: SystemExit: wrk saw failed creates"
    }
    assert "no readable JSON" in sync.outcome(0, "", out)["unavailable"]
    out.write_text(json.dumps({"latency": {"p50_ms": 3.1}, "workers": 1}))
    figures = sync.outcome(0, "", out)["figures"]
    assert sync.rows(figures) == [("latency.p50_ms", 3.1), ("workers", 1)]


def test_a_machine_busy_through_the_whole_run_is_said_in_one_line() -> None:
    runs = table_runs(create=4_000, list_p99=80)
    for s in runs.values():
        for r in s:
            r["cpu"] = {"server": 0.3, "postgres": 0.0, "other": 1.5}
    lines = report.checks(runs)
    assert "suspect runs): **all 15 runs** (150%-150%)." in lines[1]
    assert lines[2].endswith("other processes): **all 15 runs** (30%-30%).")

"""The speed table of the performance issue, as data, and how a measured figure is judged.

Kept apart from the runner so the goals can be read (and unit tested) without wrk: a target is
either a throughput ratio chinwag / baseline that must reach ``goal``, or a p99 latency of one
chinwag path that must stay under ``goal`` milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Target:
    path: str
    kind: Literal["ratio", "p99_ms"]
    num: str  # config id of the chinwag measurement
    den: str | None  # config id of the baseline (ratios only)
    today: str  # the figure the issue was filed with, as the issue wrote it
    goal: float

    @property
    def goal_text(self) -> str:
        return f">= {self.goal:.2f}" if self.kind == "ratio" else f"< {self.goal:g} ms"

    def met(self, value: float) -> bool:
        """Ratios must reach the goal; latencies must stay strictly under it."""
        return value >= self.goal if self.kind == "ratio" else value < self.goal


TARGETS = (
    Target("message create / bare POST", "ratio", "chinwag.create", "raw.post", "0.24", 0.40),
    Target("message fetch / bare GET", "ratio", "chinwag.fetch", "raw.get", "0.30", 0.60),
    Target("list 50 messages / bare GET", "ratio", "chinwag.list", "raw.get", "0.06", 0.15),
    Target(
        "list 50 messages, p99 latency under that load",
        "p99_ms",
        "chinwag.list",
        None,
        "0.5-1.0 s",
        100.0,
    ),
    Target(
        "PostgreSQL create / minimal asyncpg handler",
        "ratio",
        "chinwag_pg.create",
        "asyncpg.create",
        "1.39",
        1.8,
    ),
)

# Ratios reported for information only (no goal): (numerator, denominator, description)
INFO_RATIOS = (
    ("chinwag.list_deep", "chinwag.list", "deep list (50 @ 90k) / first page (keyset flatness)"),
    ("chinwag_pg.fetch", "raw.get", "PG: fetch / bare GET"),
    ("chinwag_pg.list", "raw.get", "PG: list 50 / bare GET"),
    ("chinwag.create", "starlette_sqlite3.create", "create / Starlette + sqlite3 create"),
    ("chinwag.fetch", "starlette.get", "fetch / bare Starlette GET"),
    ("chinwag.list", "starlette.get", "list 50 / bare Starlette GET"),
)


def baseline_uses() -> dict[str, set[str]]:
    """Baseline config id -> the chinwag config ids a target or an info ratio compares with it."""
    pairs = [(t.den, t.num) for t in TARGETS] + [(den, num) for num, den, _ in INFO_RATIOS]
    out: dict[str, set[str]] = {}
    for den, num in pairs:
        if den is not None:
            out.setdefault(den, set()).add(num)
    return out

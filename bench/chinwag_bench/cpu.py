"""CPU accounting from /proc: who used the cores during a measurement, and waiting for quiet.

On a shared machine other people's processes land on the server's or wrk's core. The runner
waits for idle CPUs before each measurement and records the server's, PostgreSQL's and everyone
else's share during it, so a disturbed run can be seen (and measured again) instead of trusted.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QUIET_BUSY = 0.15  # a CPU busier than this is not idle


def wait_quiet(limit: float) -> float:
    """Wait until no CPU is more than 15 % busy, at most ``limit`` s (0: do not wait at all).

    Returns the seconds waited. Giving up is not an error: the run's "other load" column shows
    what the wait could not prevent.
    """
    if limit <= 0:
        return 0.0
    start = time.monotonic()
    while True:
        a = cpu_counters()
        time.sleep(1.0)
        busy = cpus_busy(a, cpu_counters())
        waited = time.monotonic() - start
        if max(busy, default=0) < QUIET_BUSY or waited >= limit:
            return round(waited, 1)
        time.sleep(2)


def _procs() -> Iterator[tuple[int, str, list[str]]]:
    """(pid, comm, stat fields after comm) of every process."""
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            head, _, rest = (d / "stat").read_text().rpartition(")")
            yield int(d.name), head.partition("(")[2], rest.split()


def group_pids(pgid: int) -> list[int]:
    return [pid for pid, _, f in _procs() if int(f[2]) == pgid]


def cpu_counters() -> list[list[int]]:
    cpus = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("cpu") and line[3:4].isdigit():
                cpus.append([int(x) for x in line.split()[1:]])
    return cpus


def cpus_busy(a: list[list[int]], b: list[list[int]]) -> list[float]:
    busy = []
    for x, y in zip(a, b, strict=False):
        d = [j - i for i, j in zip(x, y, strict=False)]
        total = sum(d[:8]) or 1
        busy.append(round(1 - (d[3] + d[4]) / total, 3))  # idle + iowait
    return busy


@dataclass(frozen=True)
class Snapshot:
    wall: float
    group: dict[int, float]  # CPU seconds per pid of the server's process group
    postgres: dict[int, float]  # CPU seconds per postgres pid
    cpus: list[list[int]]  # per-CPU /proc/stat counters


def snapshot(pgid: int) -> Snapshot:
    ticks = os.sysconf("SC_CLK_TCK")
    group, pg = {}, {}
    for pid, comm, f in _procs():
        used = (int(f[11]) + int(f[12])) / ticks  # utime + stime
        if int(f[2]) == pgid:
            group[pid] = used
        elif comm == "postgres":
            pg[pid] = used
    return Snapshot(time.monotonic(), group, pg, cpu_counters())


def usage(a: Snapshot, b: Snapshot, wrk_cpu: float) -> dict[str, Any]:
    """Shares (in cores) of the server, PostgreSQL, and other processes, and per-CPU busy.

    A single-worker server uses ~100 % of CPU 0 when saturated. "other" is busy CPU time that was
    neither the server, wrk nor PostgreSQL. Processes that exit during the run are missed.
    """
    wall = b.wall - a.wall

    def used(x: dict[int, float], y: dict[int, float]) -> float:
        return round(sum(v - x.get(pid, 0.0) for pid, v in y.items()) / wall, 3) if wall else 0.0

    out: dict[str, Any] = {
        "server": used(a.group, b.group),
        "postgres": used(a.postgres, b.postgres),
        "cpus_busy": cpus_busy(a.cpus, b.cpus),
    }
    other = sum(out["cpus_busy"]) - out["server"] - out["postgres"] - wrk_cpu
    out["other"] = round(max(other, 0.0), 3)
    return out


def rss_kb(pgid: int) -> int | None:
    total = None
    for pid in group_pids(pgid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total = (total or 0) + int(line.split()[1])
    return total

"""py-spy profiles of chinwag during a measurement (``--profile``).

py-spy pauses the process to sample it, so req/s in a profile run are lower and not comparable;
the point is where the time goes. Time in the garbage collector is charged to whatever line was
allocating, and lines making system calls look heavier than they are: confirm a hotspot
in-process before acting on it.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .procs import pin, tool


@dataclass
class Sampling:
    proc: subprocess.Popen[bytes]
    raw: Path


def start(pid: int, seconds: float, raw: Path, pinned: bool) -> Sampling:
    cmd = [*pin(1, pinned), *tool("py-spy"), "record", "--pid", str(pid), "--rate", "250"]
    cmd += ["--duration", str(max(1, int(seconds))), "--format", "raw", "--output", str(raw)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.3)
    return Sampling(proc, raw)


def finish(sampling: Sampling, keep: Path) -> dict[str, Any]:
    """Wait for py-spy, keep its collapsed stacks at ``keep`` and summarize them."""
    _, err = sampling.proc.communicate(timeout=120)
    if sampling.proc.returncode != 0 or not sampling.raw.exists():
        return {"error": err.decode(errors="replace")[-2000:]}
    keep.parent.mkdir(exist_ok=True)
    shutil.copyfile(sampling.raw, keep)
    return summarize(sampling.raw.read_text()) | {"collapsed_stacks": str(keep)}


def _frame(f: str) -> str:
    # py-spy raw frames: "function (path/to/file.py:line)"; drop the line, shorten the path
    name, _, loc = f.partition(" (")
    loc = loc.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/", "lib/python3.11/"):
        if marker in loc:
            loc = loc.split(marker, 1)[1]
            break
    return f"{name} ({loc})" if loc else name


def summarize(collapsed: str, top: int = 25) -> dict[str, Any]:
    """Top self and inclusive functions, in percent of all samples."""
    self_t: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = [_frame(f) for f in stack.split(";") if f and not f.startswith("process ")]
        frames = [f for f in frames if not f.startswith("thread (")]
        if not frames:
            continue
        total += int(n)
        self_t[frames[-1]] += int(n)
        for f in set(frames):
            incl[f] += int(n)

    def pct(c: Counter[str]) -> list[list[Any]]:
        return [[k, round(100 * v / total, 1)] for k, v in c.most_common(top)]

    return {"samples": total, "self_pct": pct(self_t), "inclusive_pct": pct(incl)}

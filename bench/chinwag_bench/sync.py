"""The live-path (Sync) figures, from ``bench/sync_bench.py --json PATH`` run as a subprocess.

sync_bench.py is its own tool with its own options; this package only runs it (once per tree,
on SQLite, with its defaults) and reports what it wrote. When it cannot (no ``--json`` option
in this checkout's version, a failure), the report says Sync is unavailable and why, and the
rest of the table stands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .trees import Tree

SCRIPT = Path(__file__).resolve().parent.parent / "sync_bench.py"
TIMEOUT_S = 300


def run(tree: Tree, out: Path) -> dict[str, Any]:
    """``{"figures": {...}}`` from sync_bench.py, or ``{"unavailable": reason}``."""
    cmd = [sys.executable, str(SCRIPT), "--json", str(out)]
    try:
        done = subprocess.run(
            cmd, env=tree.env(dict(os.environ)), capture_output=True, text=True, timeout=TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return {"unavailable": f"sync_bench.py did not finish in {TIMEOUT_S} s", "cmd": cmd}
    return outcome(done.returncode, done.stderr, out) | {"cmd": " ".join(cmd)}


def outcome(returncode: int, stderr: str, out: Path) -> dict[str, Any]:
    """Read what one sync_bench.py run left behind."""
    if returncode != 0:
        if "unrecognized arguments: --json" in stderr:
            return {"unavailable": "this checkout's sync_bench.py has no --json option"}
        tail = stderr.strip().splitlines()[-1:] or ["no output"]
        return {"unavailable": f"sync_bench.py exited {returncode}: {tail[0]}"}
    try:
        figures = json.loads(out.read_text())
    except (OSError, ValueError) as e:
        return {"unavailable": f"sync_bench.py wrote no readable JSON to {out}: {e}"}
    if not isinstance(figures, dict):
        return {"unavailable": f"sync_bench.py JSON is not an object: {str(figures)[:100]}"}
    return {"figures": figures}


def rows(figures: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Flatten nested figures into (dotted name, value) rows for the report."""
    out: list[tuple[str, Any]] = []
    for k, v in figures.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out += rows(v, name + ".")
        else:
            out.append((name, v))
    return out

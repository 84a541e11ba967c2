"""Prerequisites (exit 2 when one is missing, with the command that installs it) and the
machine description every report starts with."""

from __future__ import annotations

import contextlib
import datetime
import importlib.metadata
import importlib.util
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .options import Options
from .pg import Postgres
from .procs import BIN

REPO = Path(__file__).resolve().parent.parent.parent
APPS = ("raw_asgi.py", "common.py", "starlette_db.py", "starlette_app.py")


def problems(opts: Options) -> list[str]:
    out = []
    if shutil.which("wrk") is None:
        out.append("wrk not found: apt-get update && apt-get install -y wrk")
    if opts.pin:
        if shutil.which("taskset") is None:
            out.append("taskset not found: apt-get install -y util-linux (or use --no-pin)")
        if (os.cpu_count() or 1) < 2:
            out.append("pinning needs 2 CPUs (server on 0, wrk on 1): use --no-pin")
    for f in ("bench.lua", *(f"apps/{a}" for a in APPS)):
        if not (opts.baseline_dir / f).is_file():
            out.append(f"{opts.baseline_dir / f} missing: pass --baseline-dir")
    mods = {
        "uvicorn": "uvicorn",
        "uvloop": "uvloop",
        "httptools": "httptools",
        "orjson": "orjson",
        "chinwag": "chinwag (pip install -e .)",
    }
    if "postgresql" in opts.engines or opts.extras:
        # the Starlette apps: the asyncpg create baseline and the Starlette references
        mods |= {"starlette": "starlette", "multipart": "python-multipart", "asyncpg": "asyncpg"}
    missing = [pkg for mod, pkg in mods.items() if importlib.util.find_spec(mod) is None]
    if missing:
        out.append(
            f"python packages missing in {sys.executable}: {', '.join(missing)}: "
            f"{BIN / 'pip'} install -r bench/requirements.txt"
        )
    if opts.profile and not (BIN / "py-spy").exists():
        out.append(f"py-spy not found (for --profile): {BIN / 'pip'} install py-spy")
    if "postgresql" in opts.engines:
        out += _postgres_problems(opts.pg_url)
    return out


def _postgres_problems(url: str) -> list[str]:
    if shutil.which("psql") is None or shutil.which("pg_isready") is None:
        return ["psql / pg_isready not found: apt-get install -y postgresql-client"]
    u = urlsplit(url)
    ready = subprocess.run(
        ["pg_isready", "-h", u.hostname or "127.0.0.1", "-p", str(u.port or 5432)],
        capture_output=True,
        text=True,
    )
    if ready.returncode != 0:
        return [
            f"PostgreSQL at {url} is not accepting connections ({ready.stdout.strip()}): "
            "start it, or use --engine sqlite"
        ]
    return []


def machine(pg: Postgres | None) -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 2**20:.0f} GiB"
    versions = {}
    for pkg in ("chinwag", "uvicorn", "uvloop", "httptools", "starlette", "orjson", "asyncpg"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[pkg] = importlib.metadata.version(pkg)
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "memory": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": "wrk " + wrk_v.split(" Copyright")[0].removeprefix("wrk ").strip(),
        "versions": versions,
        "postgresql": pg.info() if pg is not None else None,
    }


def git_head(path: Path) -> dict[str, Any]:
    """HEAD of the checkout holding ``path``, and whether its ``src`` has uncommitted changes."""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):

        def git(*a: str) -> str:
            return subprocess.run(
                ["git", "-C", str(path), *a], capture_output=True, text=True, check=True
            ).stdout.strip()

        return {
            "commit": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", ".")),
        }
    return {}

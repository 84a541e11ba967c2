#!/usr/bin/env python3
"""chinwag throughput benchmark: message create / fetch / list, as ratios to same-run baselines.

Every figure is req/s from ``wrk`` against one server process pinned to CPU 0 (wrk on CPU 1),
and every chinwag figure is reported as a ratio to a baseline server measured in the same run,
interleaved round by round, so machine drift falls on both sides of each ratio.

Baselines are the apps of the perf-baseline study (``/work/shared/perf-baseline``, see its
``baseline.md``), started exactly as it did (uvicorn, 1 worker, uvloop + httptools):

- ``starlette_app``: bare Starlette, GET returns a fixed 609-byte message JSON (fetch/list ref.);
- ``starlette_db`` with ``DB_KIND=sqlite3 SQLITE_SYNC=NORMAL``: Starlette + stdlib sqlite3, WAL,
  one ``BEGIN IMMEDIATE; UPDATE … RETURNING; INSERT; COMMIT`` per POST (create reference);
- extras (skip with ``--no-extras``): Starlette POST without a DB, Falcon bare GET/POST, and
  ``falcon_db`` (Falcon + the same sqlite3 transaction: the stack chinwag is built on).

Targets (from the issue): chinwag create >= 1.0 x Starlette+sqlite3 create; chinwag fetch
>= 0.5 x bare Starlette GET. List (50-row page) is reported against the same Starlette GET.

Usage::

    .venv/bin/python bench/bench.py --quick          # smoke check: 1 round of 3 s
    .venv/bin/python bench/bench.py                  # 3 rounds of 10 s, ~8 min
    .venv/bin/python bench/bench.py --only create    # one target and its baselines
    .venv/bin/python bench/bench.py --profile        # py-spy hotspots of chinwag (no ratios)

It installs nothing; missing prerequisites are reported with the command that installs them.
Raw data (every wrk run, commands, versions) goes to ``bench/results/<timestamp>.json`` and the
report to ``bench/results/<timestamp>.md``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import hashlib
import http.client
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
DEFAULT_BASELINE_DIR = Path("/work/shared/perf-baseline")
BIN = Path(sys.executable).parent

# The baseline apps accept exactly these credentials (apps/common.py); chinwag is configured
# with the same ones so every server sees byte-identical requests from the same wrk script.
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "perf-token"
WRK_AUTH = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
FIXED = {"IS": "IS" + "0" * 32, "CH": "CH" + "0" * 32, "IM": "IM" + "0" * 32}

MSG = "/v1/Services/{IS}/Channels/{CH}/Messages"
# a 50-row page 90% deep into the deep channel, as a client following next_page_url reaches it
DEEP_PATH = "/v1/Services/{IS}/Channels/{DCH}/Messages?PageSize=50&Page=1800&PageToken=PT{DK}"
UVICORN_FLAGS = [
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--no-access-log",
    "--log-level",
    "warning",
]

TARGETS = ("create", "fetch", "list")
OTHER_LOAD_LIMIT = 0.15  # flag runs where other processes used more than this many cores


# --------------------------------------------------------------------------- configurations
@dataclass(frozen=True)
class Server:
    key: str
    kind: str  # "uvicorn" (a baseline app module) or "chinwag"
    module: str = ""
    env: tuple[tuple[str, str], ...] = ()
    sqlite: bool = False  # app creates its own SQLite file (SQLITE_PATH)


@dataclass(frozen=True)
class Config:
    id: str
    server: str
    label: str
    method: str
    path: str  # format string over FIXED (baselines) or the seeded sids (chinwag)
    target: str  # create | fetch | list
    body: str | None = None
    extra: bool = False
    deep: bool = False
    status: int = 200


SERVERS = {
    s.key: s
    for s in (
        Server("starlette", "uvicorn", "starlette_app"),
        Server(
            "starlette_sqlite3",
            "uvicorn",
            "starlette_db",
            (("DB_KIND", "sqlite3"), ("SQLITE_SYNC", "NORMAL")),
            sqlite=True,
        ),
        Server("falcon", "uvicorn", "falcon_app"),
        Server(
            "falcon_sqlite3",
            "uvicorn",
            "falcon_db",
            (("DB_KIND", "sqlite3"), ("SQLITE_SYNC", "NORMAL")),
            sqlite=True,
        ),
        Server("chinwag", "chinwag"),
    )
}

# Listed in run order: each round runs them all, baselines next to the chinwag figure they anchor.
CONFIGS = (
    Config(
        "starlette.get",
        "starlette",
        "Starlette bare GET (fixed JSON)",
        "GET",
        MSG + "/{IM}",
        "fetch",
    ),
    Config("chinwag.fetch", "chinwag", "chinwag fetch message", "GET", MSG + "/{IM}", "fetch"),
    Config(
        "chinwag.list",
        "chinwag",
        "chinwag list, page of 50 (of 1k)",
        "GET",
        MSG + "?PageSize=50",
        "list",
    ),
    Config(
        "chinwag.list_deep",
        "chinwag",
        "chinwag list, page of 50 at depth 90k (PageToken)",
        "GET",
        DEEP_PATH,
        "list",
        deep=True,
    ),
    Config(
        "falcon.get",
        "falcon",
        "Falcon bare GET (fixed JSON)",
        "GET",
        MSG + "/{IM}",
        "fetch",
        extra=True,
    ),
    Config(
        "starlette_sqlite3.create",
        "starlette_sqlite3",
        "Starlette + sqlite3 NORMAL create",
        "POST",
        MSG,
        "create",
        body="Body=hello",
        status=201,
    ),
    Config(
        "chinwag.create",
        "chinwag",
        "chinwag create message",
        "POST",
        MSG,
        "create",
        body="Body=hello",
        status=201,
    ),
    Config(
        "falcon_sqlite3.create",
        "falcon_sqlite3",
        "Falcon + sqlite3 NORMAL create",
        "POST",
        MSG,
        "create",
        body="Body=hello",
        extra=True,
        status=201,
    ),
    Config(
        "starlette.post",
        "starlette",
        "Starlette bare POST (no DB)",
        "POST",
        MSG,
        "create",
        body="Body=hello",
        extra=True,
        status=201,
    ),
    Config(
        "falcon.post",
        "falcon",
        "Falcon bare POST (no DB)",
        "POST",
        MSG,
        "create",
        body="Body=hello",
        extra=True,
        status=201,
    ),
)

# (numerator, denominator, minimum ratio or None, description)
RATIOS = (
    ("chinwag.create", "starlette_sqlite3.create", 1.0, "create vs Starlette + sqlite3 create"),
    ("chinwag.fetch", "starlette.get", 0.5, "fetch vs Starlette bare GET"),
    ("chinwag.list", "starlette.get", None, "list (50) vs Starlette bare GET"),
    ("chinwag.list_deep", "starlette.get", None, "deep list (50 @ 90k) vs Starlette bare GET"),
    ("chinwag.list_deep", "chinwag.list", None, "deep list vs first page (keyset flatness)"),
    ("chinwag.create", "falcon_sqlite3.create", None, "create vs Falcon + sqlite3 create"),
    ("chinwag.fetch", "falcon.get", None, "fetch vs Falcon bare GET"),
    ("chinwag.list", "falcon.get", None, "list (50) vs Falcon bare GET"),
    ("starlette_sqlite3.create", "starlette.post", None, "Starlette: DB cost on POST (ref.)"),
)


# --------------------------------------------------------------------------- prerequisites
def check_prerequisites(args: argparse.Namespace, baseline_dir: Path) -> list[str]:
    problems = []
    if shutil.which("wrk") is None:
        problems.append("wrk not found: apt-get update && apt-get install -y wrk")
    if args.pin:
        if shutil.which("taskset") is None:
            problems.append("taskset not found: apt-get install -y util-linux (or use --no-pin)")
        if (os.cpu_count() or 1) < 2:
            problems.append("pinning needs 2 CPUs (server on 0, wrk on 1): use --no-pin")
    for f in ("bench.lua", "apps/common.py", "apps/starlette_app.py", "apps/starlette_db.py"):
        if not (baseline_dir / f).is_file():
            problems.append(f"{baseline_dir / f} missing: pass --baseline-dir")
    mods = {
        "starlette": "starlette",
        "multipart": "python-multipart",
        "uvicorn": "uvicorn",
        "uvloop": "uvloop",
        "httptools": "httptools",
        "orjson": "orjson",
        "falcon": "falcon",
        "chinwag": "chinwag (pip install -e .)",
    }
    missing = [pkg for mod, pkg in mods.items() if importlib.util.find_spec(mod) is None]
    if missing:
        problems.append(
            f"python packages missing in {sys.executable}: {', '.join(missing)}: "
            f"{BIN / 'pip'} install -r bench/requirements.txt"
        )
    if args.profile and not (BIN / "py-spy").exists() and shutil.which("py-spy") is None:
        problems.append(f"py-spy not found (for --profile): {BIN / 'pip'} install py-spy")
    return problems


def tool(name: str) -> list[str]:
    exe = BIN / name
    if exe.exists():
        return [str(exe)]
    found = shutil.which(name)
    if found:
        return [found]
    return {"uvicorn": [sys.executable, "-m", "uvicorn"]}.get(
        name, [sys.executable, "-m", f"{name}.cli"]
    )


# --------------------------------------------------------------------------- processes
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pin(cpu: int, args: argparse.Namespace) -> list[str]:
    return ["taskset", "-c", str(cpu)] if args.pin else []


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    cmd: list[str]
    env: dict[str, str]
    log: Path
    db: Path | None = None


def start(
    server: Server,
    port: int,
    work: Path,
    args: argparse.Namespace,
    db: Path | None,
    baseline_dir: Path,
) -> Running:
    env = dict(os.environ)
    extra: dict[str, str] = dict(server.env)
    if server.kind == "chinwag":
        assert db is not None
        extra |= {"CHINWAG_ACCOUNT_SID": ACCOUNT_SID, "CHINWAG_AUTH_TOKEN": AUTH_TOKEN}
        cmd = [*tool("chinwag"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--database", f"sqlite:///{db}", "--log-level", "warning"]
        cwd = work
    else:
        if server.sqlite:
            db = work / f"{server.key}-{port}.db"
            extra["SQLITE_PATH"] = str(db)
        cmd = [*tool("uvicorn"), f"{server.module}:app", "--host", "127.0.0.1"]
        cmd += ["--port", str(port), *UVICORN_FLAGS]
        cwd = baseline_dir / "apps"
        # the apps import `common`; uvicorn's default --app-dir "." is the apps folder
    env |= extra
    cmd = pin(0, args) + cmd
    log = work / f"{server.key}-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    run = Running(proc, port, cmd, extra, log, db)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{server.key} exited ({proc.returncode}):\n{log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return run  # uvicorn listens only after lifespan startup has completed
        time.sleep(0.05)
    stop(run)
    raise RuntimeError(f"{server.key} not listening on {port} after 60 s:\n{log.read_text()}")


def stop(run: Running) -> None:
    if run.proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.proc.pid, signal.SIGTERM)
        try:
            run.proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(run.proc.pid, signal.SIGKILL)
            run.proc.wait()


@contextlib.contextmanager
def serving(
    server: Server, work: Path, args: argparse.Namespace, db: Path | None, baseline_dir: Path
) -> Iterator[Running]:
    run = start(server, free_port(), work, args, db, baseline_dir)
    try:
        yield run
    finally:
        stop(run)


# --------------------------------------------------------------------------- HTTP helpers
class Client:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Basic {WRK_AUTH}"}

    def call(self, method: str, path: str, form: dict[str, str] | None = None) -> Any:
        status, data = self.raw(method, path, form)
        if status >= 300:
            raise RuntimeError(f"{method} {path} -> {status}: {data[:300]!r}")
        return json.loads(data)

    def raw(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, bytes]:
        headers = dict(self.headers)
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        return resp.status, resp.read()

    def close(self) -> None:
        self.conn.close()


# --------------------------------------------------------------------------- chinwag fixture
def build_template(work: Path, args: argparse.Namespace, baseline_dir: Path) -> dict[str, Any]:
    """A seeded chinwag database, copied fresh for every chinwag measurement.

    Created through chinwag itself (schema, service, channels, ``--seed`` messages over HTTP);
    the deep channel's ``--deep`` rows are then inserted directly with sqlite3 while the server
    is stopped, shaped exactly like rows chinwag wrote, and its channel row updated to match.
    """
    db = work / "template.db"
    t0 = time.monotonic()
    with serving(SERVERS["chinwag"], work, args, db, baseline_dir) as run:
        c = Client(run.port)
        svc = c.call("POST", "/v1/Services", {"FriendlyName": "bench"})["sid"]
        ch = c.call("POST", f"/v1/Services/{svc}/Channels", {"FriendlyName": "hot"})["sid"]
        dch = c.call("POST", f"/v1/Services/{svc}/Channels", {"FriendlyName": "deep"})["sid"]
        path = MSG.format(IS=svc, CH=ch)
        sids = [c.call("POST", path, {"Body": "hello"})["sid"] for _ in range(args.seed)]
        c.call("POST", MSG.format(IS=svc, CH=dch), {"Body": "hello"})  # a real row to copy
        c.close()
    seeded = time.monotonic() - t0
    deep_key = 0
    if args.deep > 1:
        con = sqlite3.connect(db, isolation_level=None)
        con.row_factory = sqlite3.Row
        proto = con.execute("SELECT * FROM messages WHERE channel_sid = ?", (dch,)).fetchone()
        cols = [k for k in proto.keys() if k != "id"]  # noqa: SIM118 (sqlite3.Row)
        base = dict(proto)
        rows = []
        for i in range(1, args.deep):
            base_i = base | {"sid": "IM" + uuid.uuid4().hex, "idx": i}
            rows.append(tuple(base_i[k] for k in cols))
        con.execute("BEGIN")
        con.executemany(
            f"INSERT INTO messages ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            rows,
        )
        con.execute(
            "UPDATE channels SET messages_count = ?, next_message_index = ?, "
            "last_message_sid = ? WHERE sid = ?",
            (args.deep, args.deep, rows[-1][cols.index("sid")], dch),
        )
        con.execute("COMMIT")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        deep_key = args.deep * 9 // 10 - 1
    ids = {"IS": svc, "CH": ch, "IM": sids[len(sids) // 2], "DCH": dch, "DK": deep_key}
    info = {
        "ids": ids,
        "seed_messages": args.seed,
        "deep_messages": max(args.deep, 1),
        "seed_http_s": round(seeded, 2),
        "template_s": round(time.monotonic() - t0, 2),
        "template_bytes": db.stat().st_size,
    }
    # a restarted server must see the direct inserts: check count and a deep page
    with serving(SERVERS["chinwag"], work, args, copy_db(db, work / "check.db"), baseline_dir) as r:
        c = Client(r.port)
        got = c.call("GET", f"/v1/Services/{svc}/Channels/{dch}")["messages_count"]
        page = c.call(
            "GET", "/v1/Services/{IS}/Channels/{DCH}/Messages?PageToken=PT{DK}".format(**ids)
        )
        c.close()
    if got != max(args.deep, 1) or (args.deep > 1 and page["messages"][0]["index"] != deep_key + 1):
        raise RuntimeError(f"deep channel check failed: count {got}, page {page['meta']}")
    return info


def chinwag_fingerprint() -> str:
    """A hash of chinwag's installed source: the tree is edited by others while we measure."""
    spec = importlib.util.find_spec("chinwag")
    assert spec is not None and spec.submodule_search_locations
    root = Path(next(iter(spec.submodule_search_locations)))
    h = hashlib.sha1()
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


def copy_db(template: Path, dest: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{dest}{suffix}").unlink()
    shutil.copyfile(template, dest)
    return dest


def count_rows(db: Path, channel_sid: str | None) -> int:
    con = sqlite3.connect(db)
    try:
        if channel_sid is None:
            return int(con.execute("SELECT count(*) FROM messages").fetchone()[0])
        q = "SELECT count(*) FROM messages WHERE channel_sid = ?"
        return int(con.execute(q, (channel_sid,)).fetchone()[0])
    finally:
        con.close()


# --------------------------------------------------------------------------- wrk
def wrk(
    url: str, cfg: Config, seconds: float, args: argparse.Namespace, lua: Path
) -> dict[str, Any]:
    env = dict(os.environ, WRK_AUTH=WRK_AUTH, WRK_METHOD=cfg.method, WRK_BODY=cfg.body or "")
    cmd = [*pin(1, args), "wrk", f"-t{args.threads}", f"-c{args.connections}"]
    cmd += [f"-d{seconds:g}s", "--timeout", "5s", "-s", str(lua), url]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / (
        time.monotonic() - t0
    )
    line = next((ln for ln in out.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"no WRKJSON line from wrk:\n{out}")
    res: dict[str, Any] = json.loads(line[len("WRKJSON ") :])
    res["rps"] = res["requests"] / (res["duration_us"] / 1e6)
    res["err_socket"] = sum(res[k] for k in ("err_connect", "err_read", "err_write", "err_timeout"))
    res["cmd"] = " ".join(cmd)
    res["wrk_cpu"] = round(wrk_cpu, 3)
    return res


def measure(
    cfg: Config,
    rnd: int,
    work: Path,
    args: argparse.Namespace,
    baseline_dir: Path,
    fixture: dict[str, Any] | None,
) -> dict[str, Any]:
    server = SERVERS[cfg.server]
    lua = baseline_dir / "bench.lua"
    ids: dict[str, Any] = dict(FIXED)
    db = None
    if server.kind == "chinwag":
        assert fixture is not None
        ids = fixture["ids"]
        src_version = chinwag_fingerprint()
        db = copy_db(work / "template.db", work / f"run-{cfg.id}-{rnd}.db")
    path = cfg.path.format(**ids)
    waited = wait_quiet(args.wait_quiet) if args.wait_quiet > 0 else 0.0
    with serving(server, work, args, db, baseline_dir) as run:
        url = f"http://127.0.0.1:{run.port}{path}"
        c = Client(run.port)
        status, sample = c.raw(cfg.method, path, {"Body": "hello"} if cfg.body else None)
        c.close()
        if status != cfg.status:
            raise RuntimeError(
                f"{cfg.id}: sanity {cfg.method} {path} -> {status}: {sample[:300]!r}"
            )
        profile = None
        warm = wrk(url, cfg, args.warmup, args, lua) if args.warmup > 0 else None
        if args.profile:
            profile = start_py_spy(run, cfg, work, args)
        before = cpu_snapshot(run.proc.pid)
        res = wrk(url, cfg, args.duration, args, lua)
        res["cpu"] = cpu = cpu_usage(before, cpu_snapshot(run.proc.pid))
        # busy CPU time that was neither the server nor wrk: other processes on the machine
        cpu["other"] = round(max(sum(cpu["cpus_busy"]) - cpu["server"] - res["wrk_cpu"], 0), 3)
        if profile is not None:
            res["profile"] = finish_py_spy(profile)
        if server.sqlite and cfg.method == "POST":
            c = Client(run.port)
            res["rows"] = c.call("GET", "/_count")["messages"]
            c.close()
        res["server_cmd"] = " ".join(run.cmd)
        res["server_env"] = run.env
        res["response_bytes"] = len(sample)
        res["server_rss_kb"] = rss_kb(run.proc.pid)
    if server.kind == "chinwag" and cfg.method == "POST":
        assert db is not None
        res["rows"] = count_rows(db, ids["CH"]) - fixture["seed_messages"]  # type: ignore[index]
    if "rows" in res:
        # every 2xx must be a committed row (in-flight requests at the end may add a few more)
        ok = res["requests"] - res["err_status"]
        ok += 1 + ((warm["requests"] - warm["err_status"]) if warm else 0)
        res["responses_2xx_total"] = ok
        res["rows_ok"] = res["rows"] >= ok
    if db is not None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{db}{suffix}").unlink()
    res |= {"config": cfg.id, "round": rnd, "warmup": warm, "waited_quiet_s": waited}
    if server.kind == "chinwag":
        res["chinwag_src"] = src_version
    return res


Snapshot = tuple[float, float, list[list[int]]]


def wait_quiet(limit: float) -> float:
    """Wait until no CPU is more than 15 % busy (nothing of ours runs now); seconds waited.

    On a shared machine other people's test runs would land on the server's or wrk's core.
    Gives up after ``limit`` seconds (the run's CPU share column then shows the damage).
    """
    start = time.monotonic()
    while True:
        a = cpu_snapshot(os.getpid())
        time.sleep(0.5)
        busy = cpu_usage(a, cpu_snapshot(os.getpid()))["cpus_busy"]
        waited = time.monotonic() - start
        if max(busy, default=0) < 0.15 or waited >= limit:
            return round(waited, 1)
        time.sleep(2)


def cpu_snapshot(pid: int) -> Snapshot:
    """(wall time, server process CPU seconds, per-CPU /proc/stat counters)."""
    ticks = os.sysconf("SC_CLK_TCK")
    proc = 0.0
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        proc = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    cpus = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("cpu") and line[3:4].isdigit():
                cpus.append([int(x) for x in line.split()[1:]])
    return time.monotonic(), proc, cpus


def cpu_usage(a: Snapshot, b: Snapshot) -> dict[str, Any]:
    """Server process CPU share, and how busy each CPU was, over the measured run.

    On a quiet machine the server uses ~100 % of CPU 0; if CPU 0 is busier than the server,
    something else ran there (other processes on a shared machine) and the figure is suspect.
    """
    wall = b[0] - a[0]
    busy = []
    for x, y in zip(a[2], b[2], strict=False):
        d = [j - i for i, j in zip(x, y, strict=False)]
        total = sum(d[:8]) or 1
        busy.append(round(1 - (d[3] + d[4]) / total, 3))  # idle + iowait
    return {"server": round((b[1] - a[1]) / wall, 3) if wall else None, "cpus_busy": busy}


def rss_kb(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


# --------------------------------------------------------------------------- profiling
def start_py_spy(run: Running, cfg: Config, work: Path, args: argparse.Namespace) -> Any:
    raw = work / f"profile-{cfg.id}.txt"
    cmd = [*pin(1, args), *tool("py-spy"), "record", "--pid", str(run.proc.pid), "--rate", "250"]
    cmd += ["--duration", f"{max(1, int(args.duration))}", "--format", "raw", "--output", str(raw)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.3)
    return proc, raw, cfg


def finish_py_spy(handle: Any) -> dict[str, Any]:
    proc, raw, cfg = handle
    _, err = proc.communicate(timeout=120)
    if proc.returncode != 0 or not raw.exists():
        return {"error": err.decode(errors="replace")[-2000:]}
    dest = RESULTS / f"profile-{cfg.id}-{stamp()}.txt"
    RESULTS.mkdir(exist_ok=True)
    shutil.copyfile(raw, dest)
    return summarize_profile(raw) | {"collapsed_stacks": str(dest.relative_to(REPO))}


def _frame(f: str) -> str:
    # py-spy raw frames: "function (path/to/file.py:line)"; drop the line, shorten the path
    name, _, loc = f.partition(" (")
    loc = loc.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/", "lib/python3.11/"):
        if marker in loc:
            loc = loc.split(marker, 1)[1]
            break
    return f"{name} ({loc})" if loc else name


def summarize_profile(raw: Path, top: int = 25) -> dict[str, Any]:
    self_t: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        count = int(n)
        frames = [_frame(f) for f in stack.split(";") if f and not f.startswith("process ")]
        frames = [f for f in frames if not f.startswith("thread (")]
        if not frames:
            continue
        total += count
        self_t[frames[-1]] += count
        for f in set(frames):
            incl[f] += count

    def pct(c: Counter[str]) -> list[list[Any]]:
        return [[k, round(100 * v / total, 1)] for k, v in c.most_common(top)]

    return {"samples": total, "self_pct": pct(self_t), "inclusive_pct": pct(incl)}


# --------------------------------------------------------------------------- report
def stamp() -> str:
    return datetime.datetime.now().strftime("%Y%m%d-%H%M%S")


def machine() -> dict[str, Any]:
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
    for pkg in (
        "chinwag",
        "uvicorn",
        "uvloop",
        "httptools",
        "falcon",
        "starlette",
        "python-multipart",
        "orjson",
    ):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[pkg] = importlib.metadata.version(pkg)
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    git = {}
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        run = lambda *a: subprocess.run(  # noqa: E731
            ["git", "-C", str(REPO), *a], capture_output=True, text=True, check=True
        ).stdout.strip()
        git = {
            "commit": run("rev-parse", "HEAD"),
            "dirty_src": bool(run("status", "--porcelain", "src")),
        }
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
        "git": git,
        "chinwag_src": chinwag_fingerprint(),
    }


@dataclass
class Summary:
    cfg: Config
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rps(self) -> list[float]:
        return [r["rps"] for r in self.runs]

    @property
    def median(self) -> float:
        return statistics.median(self.rps)

    def med(self, key: str) -> float:
        return statistics.median(r[key] for r in self.runs)

    def med_cpu(self, key: str) -> float:
        return statistics.median(r["cpu"][key] for r in self.runs)


def fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def report(summaries: dict[str, Summary], meta: dict[str, Any], args: argparse.Namespace) -> str:
    m = meta["machine"]
    lines = [
        f"# chinwag benchmark, {m['date']}",
        "",
        f"Machine: {m['nproc']} CPU ({m['cpu']}), {m['memory']}, kernel {m['kernel']}, "
        f"Python {m['python']}, SQLite {m['sqlite']}, {m['wrk']}. "
        f"chinwag {m['git'].get('commit', '?')[:10]}"
        f"{' (uncommitted changes in src/)' if m['git'].get('dirty_src') else ''}.",
        f"Load: wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s (after a "
        f"{args.warmup:g} s warm-up), {args.rounds} interleaved round(s), "
        f"{'server on CPU 0, wrk on CPU 1' if args.pin else 'unpinned'}; every server "
        "restarted fresh for every measurement. µs/req = 10^6 / req/s: server-core time per "
        "request (the core is saturated). Latencies are closed-loop, 64 requests in flight.",
    ]
    if args.profile:
        lines.append(
            "**Profile run**: py-spy pauses the server to sample it, so these req/s are lower "
            "than normal and must not be compared with a benchmark run."
        )
    if meta.get("fixture"):
        f = meta["fixture"]
        lines.append(
            f"chinwag fixture: 1 service, a channel of {f['seed_messages']:,} messages (created "
            f"over HTTP) and a channel of {f['deep_messages']:,} (inserted directly)."
        )
    lines += [
        "",
        "| config | req/s median | min-max | spread | µs/req | p50 ms | p99 ms | non-2xx "
        "| sock err | server CPU | other load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summaries.values():
        rps = s.rps
        spread = (max(rps) - min(rps)) / s.median if s.median else 0
        lines.append(
            f"| {s.cfg.label} (`{s.cfg.id}`) | **{fmt_int(s.median)}** | "
            f"{fmt_int(min(rps))}-{fmt_int(max(rps))} | {spread:.0%} | {1e6 / s.median:.0f} | "
            f"{s.med('lat_p50_us') / 1000:.2f} | {s.med('lat_p99_us') / 1000:.2f} | "
            f"{sum(r['err_status'] for r in s.runs)} | {sum(r['err_socket'] for r in s.runs)} | "
            f"{s.med_cpu('server'):.0%} | {s.med_cpu('other'):.0%} |"
        )
    noisy = [
        f"{s.cfg.id} round {r['round']} (other {r['cpu']['other']:.0%})"
        for s in summaries.values()
        for r in s.runs
        if r["cpu"]["other"] > OTHER_LOAD_LIMIT
    ]
    lines += [
        "",
        "Server CPU: median share of a core used by the server process during the measured run "
        "(below 100 % when it waits on disk I/O, as creates do at commit and checkpoint). Other "
        "load: median busy CPU time not used by the server or wrk, i.e. other processes on the "
        "machine, in cores. "
        + (
            f"**Runs with other load above {OTHER_LOAD_LIMIT:.0%}** (suspect): "
            + "; ".join(noisy)
            + "."
            if noisy
            else f"No run had other load above {OTHER_LOAD_LIMIT:.0%}."
        ),
    ]
    versions = {r["chinwag_src"] for s in summaries.values() for r in s.runs if "chinwag_src" in r}
    if len(versions) > 1:
        lines += [
            "",
            f"**Warning: chinwag's source changed during this run ({len(versions)} versions "
            "measured); its figures mix versions. Re-run on a stable tree.**",
        ]
    lines += [
        "",
        "Ratios: median(chinwag) / median(baseline); per-round = the ratio inside each round.",
        "",
        "| ratio | value | per-round min-max | target | met? |",
        "|---|---:|---:|---:|---|",
    ]
    verdicts = []
    for num, den, target, desc in RATIOS:
        if num not in summaries or den not in summaries:
            continue
        a, b = summaries[num], summaries[den]
        value = a.median / b.median
        by_round = {r["round"]: r["rps"] for r in b.runs}
        per = [r["rps"] / by_round[r["round"]] for r in a.runs if r["round"] in by_round]
        met = "" if target is None else ("**yes**" if value >= target else "**NO**")
        goal = "" if target is None else f"≥ {target:.1f}"
        lines.append(
            f"| {desc} (`{num}` / `{den}`) | **{value:.{2 if target is None else 3}f}** | "
            f"{min(per):.2f}-{max(per):.2f} | {goal} | {met} |"
        )
        if target is not None:
            verdicts.append(
                {
                    "ratio": f"{num}/{den}",
                    "value": value,
                    "target": target,
                    "met": value >= target,
                    "per_round": per,
                }
            )
    meta["verdicts"] = verdicts
    checks = [
        f"{s.cfg.id} round {r['round']}: {r['rows']} rows for {r['responses_2xx_total']} 2xx"
        for s in summaries.values()
        for r in s.runs
        if "rows" in r and not r["rows_ok"]
    ]
    if any("rows" in r for s in summaries.values() for r in s.runs):
        lines += [
            "",
            "Row check (create): every 2xx response is a committed row: "
            + ("yes" if not checks else "NO: " + "; ".join(checks)),
        ]
    profiles = [
        (s.cfg.id, r["profile"]) for s in summaries.values() for r in s.runs if "profile" in r
    ]
    for cid, prof in profiles:
        lines += ["", f"### py-spy, `{cid}` ({prof.get('samples', 0)} samples)", ""]
        if "error" in prof:
            lines.append(f"py-spy failed: {prof['error']}")
            continue
        lines += ["| self % | function |", "|---:|---|"]
        lines += [f"| {p} | `{k}` |" for k, p in prof["self_pct"][:15]]
        lines += ["", "| inclusive % | function |", "|---:|---|"]
        lines += [f"| {p} | `{k}` |" for k, p in prof["inclusive_pct"][:25]]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (10)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds, discarded (2)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    p.add_argument(
        "--only",
        action="append",
        choices=TARGETS,
        help="measure only this target and its baselines (repeatable)",
    )
    p.add_argument("--quick", action="store_true", help="smoke check: 1 round, 3 s, 1 s warm-up")
    p.add_argument(
        "--no-extras",
        dest="extras",
        action="store_false",
        help="skip the Falcon and Starlette-POST reference servers",
    )
    p.add_argument("--seed", type=int, default=1000, help="messages in the hot channel (1000)")
    p.add_argument(
        "--deep",
        type=int,
        default=100_000,
        help="messages in the deep channel; 0 skips the deep list (100000)",
    )
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=120.0,
        help="before each measurement, wait up to this many seconds for idle CPUs (120; 0: off)",
    )
    p.add_argument("--no-pin", dest="pin", action="store_false", help="no taskset pinning")
    p.add_argument(
        "--profile",
        action="store_true",
        help="1 round, chinwag only, under py-spy: hotspots, no ratios",
    )
    p.add_argument("--baseline-dir", type=Path, default=DEFAULT_BASELINE_DIR)
    args = p.parse_args(argv)
    if args.seed < 1:
        p.error("--seed must be at least 1 (the fetch target is one of the seeded messages)")
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 3.0, 1.0
    if args.profile:
        args.rounds = 1
    return args


def selected(args: argparse.Namespace) -> list[Config]:
    out = []
    for c in CONFIGS:
        if args.only and c.target not in args.only:
            continue
        if c.extra and not args.extras:
            continue
        if c.deep and args.deep <= 1:
            continue
        if args.profile and c.server != "chinwag":
            continue
        out.append(c)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    baseline_dir = args.baseline_dir.resolve()
    problems = check_prerequisites(args, baseline_dir)
    if problems:
        print("bench: missing prerequisites:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    configs = selected(args)
    meta: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    meta["machine"] = machine()
    per_round = sum(2 + args.warmup + args.duration for _ in configs)
    minutes = per_round * args.rounds / 60
    print(f"bench: {len(configs)} configs x {args.rounds} rounds, ~{minutes:.1f} min", flush=True)
    summaries = {c.id: Summary(c) for c in configs}
    RESULTS.mkdir(exist_ok=True)
    name = stamp() + ("-profile" if args.profile else "")
    with tempfile.TemporaryDirectory(prefix="chinwag-bench-") as tmp:
        work = Path(tmp)
        if any(c.server == "chinwag" for c in configs):
            meta["fixture"] = build_template(work, args, baseline_dir)
            print(f"bench: fixture ready in {meta['fixture']['template_s']} s", flush=True)
        for rnd in range(1, args.rounds + 1):
            for cfg in configs:
                res = measure(cfg, rnd, work, args, baseline_dir, meta.get("fixture"))
                summaries[cfg.id].runs.append(res)
                print(
                    f"  round {rnd} {cfg.id:<28} {res['rps']:>9,.0f} req/s  "
                    f"p50 {res['lat_p50_us'] / 1e3:6.2f} ms  p99 {res['lat_p99_us'] / 1e3:7.2f} ms"
                    f"  non-2xx {res['err_status']}  sock {res['err_socket']}"
                    f"  server CPU {res['cpu']['server']:.0%}  other {res['cpu']['other']:.0%}"
                    + (
                        f"  (waited {res['waited_quiet_s']} s for idle CPUs)"
                        if res["waited_quiet_s"]
                        else ""
                    ),
                    flush=True,
                )
    text = report(summaries, meta, args)
    raw = {"meta": meta, "runs": [r for s in summaries.values() for r in s.runs]}
    (RESULTS / f"{name}.json").write_text(json.dumps(raw, indent=1, default=str))
    (RESULTS / f"{name}.md").write_text(text)
    print("\n" + text)
    print(f"bench: raw data in {RESULTS / name}.json, report in {RESULTS / name}.md")
    failed = [v for v in meta.get("verdicts", []) if not v["met"]]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

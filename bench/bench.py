#!/usr/bin/env python3
"""chinwag throughput benchmark: message create / fetch / list, as ratios to same-run baselines.

Every figure is req/s from ``wrk``, and every chinwag figure is reported as a ratio to a
baseline server measured in the same run, interleaved round by round, so machine drift falls on
both sides of each ratio. Single-worker servers are pinned to CPU 0 and wrk to CPU 1; the
2-worker configurations (``--workers-compare``) run with no pinning at all, as ``baseline.md``
section 3 did.

Baselines are the apps of the perf-baseline study (``/work/shared/perf-baseline``, see its
``baseline.md``), started exactly as it did (uvicorn, 1 worker, uvloop + httptools):

- ``starlette_app``: bare Starlette, GET returns a fixed 609-byte message JSON (fetch/list ref.);
- ``starlette_db`` with ``DB_KIND=sqlite3 SQLITE_SYNC=NORMAL``: Starlette + stdlib sqlite3, WAL,
  one ``BEGIN IMMEDIATE; UPDATE … RETURNING; INSERT; COMMIT`` per POST (SQLite create reference);
- ``starlette_db`` with ``DB_KIND=asyncpg PG_POOL=10``: the same transaction on an asyncpg pool of
  10 connections (PostgreSQL create reference), on its own fresh database;
- extras (skip with ``--no-extras``): Starlette POST without a DB, Falcon bare GET/POST, and
  ``falcon_db`` (Falcon + the same sqlite3 transaction: the stack chinwag is built on).

Engines (``--engine``): ``sqlite`` (default), ``postgresql`` or ``both``. On PostgreSQL every
measured server gets a fresh scratch database on the server of ``--pg-url`` (chinwag: a copy of
a seeded template database; the asyncpg baseline: an empty one, it creates its own tables),
dropped afterwards. PostgreSQL's own processes are not pinned, for chinwag and baseline alike.

Targets (from the issues): chinwag create >= 1.0 x Starlette+sqlite3 create; chinwag fetch
>= 0.5 x bare Starlette GET; on PostgreSQL, chinwag create >= 1.0 x Starlette+asyncpg create
(hot channel). List (50-row page) is reported against the same Starlette GET. With
``--workers-compare``, chinwag also runs with ``--workers 2`` (unpinned) and the report gives
2 workers / 1 worker per operation and engine.

Usage::

    .venv/bin/python bench/bench.py --quick          # smoke check: 1 round of 3 s
    .venv/bin/python bench/bench.py                  # SQLite: 3 rounds of 10 s, ~8 min
    .venv/bin/python bench/bench.py --engine postgresql --workers-compare
    .venv/bin/python bench/bench.py --engine both --workers-compare --no-extras --deep 0
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
import re
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
from urllib.parse import urlencode, urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
DEFAULT_BASELINE_DIR = Path("/work/shared/perf-baseline")
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432"
BIN = Path(sys.executable).parent

# The baseline apps accept exactly these credentials (apps/common.py); chinwag is configured
# with the same ones so every server sees byte-identical requests from the same wrk script.
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "perf-token"
WRK_AUTH = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
FIXED = {"IS": "IS" + "0" * 32, "CH": "CH" + "0" * 32, "IM": "IM" + "0" * 32}


def spread_sid(i: int) -> str:
    """Channel i of the spread set: the SIDs bench.lua picks from with WRK_CHANNELS."""
    return f"CH{i:032x}"


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
ENGINES = ("sqlite", "postgresql")
OTHER_LOAD_LIMIT = 0.15  # flag runs where other processes used more than this many cores


# --------------------------------------------------------------------------- configurations
@dataclass(frozen=True)
class Server:
    key: str
    kind: str  # "uvicorn" (a baseline app module) or "chinwag"
    module: str = ""
    env: tuple[tuple[str, str], ...] = ()
    sqlite: bool = False  # baseline app creates its own SQLite file (SQLITE_PATH)
    pg: bool = False  # baseline app needs an empty PostgreSQL database (PG_DSN)
    engine: str = ""  # chinwag's database: sqlite | postgresql
    workers: int = 1
    pinned: bool = True  # server on CPU 0, wrk on CPU 1; False: no taskset for either

    @property
    def db_engine(self) -> str:
        """The database this server measures ("" for servers without one)."""
        if self.kind == "chinwag":
            return self.engine
        return "sqlite" if self.sqlite else "postgresql" if self.pg else ""

    @property
    def counts(self) -> bool:
        """A baseline app with a ``/_count`` endpoint (rows it committed)."""
        return self.sqlite or self.pg


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
    channels: bool = False  # spread over --channels channels (bench.lua WRK_CHANNELS)


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
        Server("starlette_asyncpg", "uvicorn", "starlette_db", (("DB_KIND", "asyncpg"),), pg=True),
        Server("falcon", "uvicorn", "falcon_app"),
        Server(
            "falcon_sqlite3",
            "uvicorn",
            "falcon_db",
            (("DB_KIND", "sqlite3"), ("SQLITE_SYNC", "NORMAL")),
            sqlite=True,
        ),
        Server("chinwag", "chinwag", engine="sqlite"),
        Server("chinwag_w2", "chinwag", engine="sqlite", workers=2, pinned=False),
        Server("chinwag_pg", "chinwag", engine="postgresql"),
        Server("chinwag_pg_w2", "chinwag", engine="postgresql", workers=2, pinned=False),
    )
}


def chinwag_ops(server: str, what: str, deep: bool = False) -> tuple[Config, ...]:
    """fetch, list (and deep list) and create configurations of one chinwag server."""
    get = MSG + "/{IM}"
    out = [
        Config(f"{server}.fetch", server, f"chinwag {what} fetch message", "GET", get, "fetch"),
        Config(
            f"{server}.list",
            server,
            f"chinwag {what} list, page of 50 (of 1k)",
            "GET",
            MSG + "?PageSize=50",
            "list",
        ),
    ]
    if deep:
        out.append(
            Config(
                f"{server}.list_deep",
                server,
                f"chinwag {what} list, page of 50 at depth 90k (PageToken)",
                "GET",
                DEEP_PATH,
                "list",
                deep=True,
            )
        )
    out.append(create_config(f"{server}.create", server, f"chinwag {what} create message"))
    return tuple(out)


def create_config(cid: str, server: str, label: str, channels: bool = False) -> Config:
    return Config(
        cid, server, label, "POST", MSG, "create", body="Body=hello", status=201, channels=channels
    )


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
    create_config(
        "starlette_sqlite3.create", "starlette_sqlite3", "Starlette + sqlite3 NORMAL create"
    ),
    create_config("chinwag.create", "chinwag", "chinwag create message"),
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
    # SQLite, 2 workers, unpinned (--workers-compare)
    *chinwag_ops("chinwag_w2", "2 workers unpinned"),
    # PostgreSQL (--engine postgresql|both)
    create_config(
        "starlette_asyncpg.create", "starlette_asyncpg", "Starlette + asyncpg (pool 10) create"
    ),
    create_config("chinwag_pg.create", "chinwag_pg", "chinwag PG create message"),
    create_config(
        "starlette_asyncpg.create_spread",
        "starlette_asyncpg",
        "Starlette + asyncpg create, spread over channels",
        channels=True,
    ),
    create_config(
        "chinwag_pg.create_spread",
        "chinwag_pg",
        "chinwag PG create, spread over channels",
        channels=True,
    ),
    *[c for c in chinwag_ops("chinwag_pg", "PG", deep=True) if c.target != "create"],
    # PostgreSQL, 2 workers, unpinned (--workers-compare)
    *chinwag_ops("chinwag_pg_w2", "PG 2 workers unpinned"),
)

# (2 workers, 1 worker, engine) server pairs of --workers-compare
WORKER_PAIRS = (("chinwag_w2", "chinwag", "SQLite"), ("chinwag_pg_w2", "chinwag_pg", "PG"))

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
    (
        "chinwag_pg.create",
        "starlette_asyncpg.create",
        1.0,
        "PG: create vs Starlette + asyncpg create, hot channel",
    ),
    (
        "chinwag_pg.create_spread",
        "starlette_asyncpg.create_spread",
        None,
        "PG: create vs Starlette + asyncpg create, spread over channels",
    ),
    ("chinwag_pg.fetch", "starlette.get", None, "PG: fetch vs Starlette bare GET"),
    ("chinwag_pg.list", "starlette.get", None, "PG: list (50) vs Starlette bare GET"),
    ("chinwag_pg.list_deep", "chinwag_pg.list", None, "PG: deep list vs first page"),
    ("chinwag_pg.create", "chinwag.create", None, "create: PostgreSQL vs SQLite"),
    ("chinwag_pg.fetch", "chinwag.fetch", None, "fetch: PostgreSQL vs SQLite"),
    ("chinwag_pg.list", "chinwag.list", None, "list: PostgreSQL vs SQLite"),
    (
        "starlette_asyncpg.create_spread",
        "starlette_asyncpg.create",
        None,
        "asyncpg baseline: spread vs hot channel",
    ),
    ("chinwag_pg.create_spread", "chinwag_pg.create", None, "chinwag PG: spread vs hot channel"),
    *(
        (f"{w2}.{op}", f"{w1}.{op}", None, f"{eng} {op}: 2 workers / 1 worker")
        for w2, w1, eng in WORKER_PAIRS
        for op in ("create", "fetch", "list")
    ),
)


def label(cfg: Config, args: argparse.Namespace) -> str:
    return cfg.label + (f" ({args.channels} channels)" if cfg.channels else "")


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
    if "postgresql" in args.engines:
        mods["asyncpg"] = "asyncpg"
    missing = [pkg for mod, pkg in mods.items() if importlib.util.find_spec(mod) is None]
    if missing:
        problems.append(
            f"python packages missing in {sys.executable}: {', '.join(missing)}: "
            f"{BIN / 'pip'} install -r bench/requirements.txt"
        )
    if args.profile and not (BIN / "py-spy").exists() and shutil.which("py-spy") is None:
        problems.append(f"py-spy not found (for --profile): {BIN / 'pip'} install py-spy")
    if "postgresql" in args.engines:
        if shutil.which("psql") is None or shutil.which("pg_isready") is None:
            problems.append("psql / pg_isready not found: apt-get install -y postgresql-client")
        else:
            u = urlsplit(args.pg_url)
            ready = subprocess.run(
                ["pg_isready", "-h", u.hostname or "127.0.0.1", "-p", str(u.port or 5432)],
                capture_output=True,
                text=True,
            )
            if ready.returncode != 0:
                problems.append(
                    f"PostgreSQL at {args.pg_url} is not accepting connections "
                    f"({ready.stdout.strip()}): start it, e.g. pg_ctlcluster "
                    "--skip-systemctl-redirect $(ls /etc/postgresql) main start"
                )
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


# --------------------------------------------------------------------------- PostgreSQL
class Postgres:
    """Scratch databases on one PostgreSQL server, through ``psql`` (no driver needed here).

    Every name gets a per-run prefix; :meth:`cleanup` drops whatever is left at the end.
    """

    def __init__(self, url: str) -> None:
        u = urlsplit(url)
        self.base = urlunsplit((u.scheme, u.netloc, "", "", ""))
        self.prefix = f"chinwag_bench_{os.getpid()}_"
        self.created: set[str] = set()
        self.version_num = int(self.sql("postgres", "SHOW server_version_num"))

    def url(self, db: str) -> str:
        return f"{self.base}/{db}"

    def sql(self, db: str, sql: str) -> str:
        """Run ``sql`` (one string, so one implicit transaction) and return psql's output."""
        cmd = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.url(db)]
        out = subprocess.run([*cmd, "-c", sql], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"psql on {db} failed: {sql[:200]}\n{out.stderr}")
        return out.stdout.strip()

    def create(self, name: str, template: str | None = None) -> str:
        db = (self.prefix + re.sub(r"[^a-z0-9_]", "_", name.lower()))[:63]
        self.drop(db)
        sql = f"CREATE DATABASE {db}"
        if template is not None:
            # FILE_COPY: a checkpoint, then a file copy, both before the measurement starts
            # (WAL_LOG, 15's default, would leave the whole copy in WAL to flush during it)
            sql += f" TEMPLATE {template}"
            if self.version_num >= 150000:
                sql += " STRATEGY FILE_COPY"
        self.sql("postgres", sql)
        self.created.add(db)
        return db

    def drop(self, db: str) -> None:
        force = " WITH (FORCE)" if self.version_num >= 130000 else ""
        self.sql("postgres", f"DROP DATABASE IF EXISTS {db}{force}")
        self.created.discard(db)

    def count(self, db: str) -> int:
        return int(self.sql(db, "SELECT count(*) FROM messages"))

    def cleanup(self) -> None:
        for db in sorted(self.created):
            with contextlib.suppress(RuntimeError):
                self.drop(db)

    def info(self) -> dict[str, str]:
        keys = (
            "server_version",
            "fsync",
            "synchronous_commit",
            "shared_buffers",
            "max_connections",
            "wal_level",
        )
        return {k: self.sql("postgres", f"SHOW {k}") for k in keys}


@dataclass
class Scratch:
    """The database of one server start: a SQLite file or a PostgreSQL database."""

    url: str = ""  # chinwag --database, or the baseline's PG_DSN
    path: Path | None = None
    pg_db: str | None = None


@dataclass
class Ctx:
    args: argparse.Namespace
    work: Path
    baseline_dir: Path
    pg: Postgres | None = None
    fixture: dict[str, dict[str, Any]] = field(default_factory=dict)


# --------------------------------------------------------------------------- processes
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pin(cpu: int, args: argparse.Namespace, pinned: bool = True) -> list[str]:
    return ["taskset", "-c", str(cpu)] if args.pin and pinned else []


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    cmd: list[str]
    env: dict[str, str]
    log: Path
    db: Scratch | None = None


def start(server: Server, port: int, ctx: Ctx, db: Scratch | None) -> Running:
    args, work = ctx.args, ctx.work
    env = dict(os.environ)
    extra: dict[str, str] = dict(server.env)
    if server.kind == "chinwag":
        assert db is not None
        extra |= {"CHINWAG_ACCOUNT_SID": ACCOUNT_SID, "CHINWAG_AUTH_TOKEN": AUTH_TOKEN}
        cmd = [*tool("chinwag"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--database", db.url, "--log-level", "warning"]
        if server.workers > 1:
            cmd += ["--workers", str(server.workers)]
        if server.engine == "postgresql":
            cmd += ["--pool-size", str(args.pg_pool)]
        cwd = work
    else:
        if server.sqlite:
            db = Scratch(path=work / f"{server.key}-{port}.db")
            extra["SQLITE_PATH"] = str(db.path)
        if server.pg:
            assert db is not None
            extra |= {"PG_DSN": db.url, "PG_POOL": str(args.pg_pool)}
            extra["N_CHANNELS"] = str(max(args.channels, 1))
        cmd = [*tool("uvicorn"), f"{server.module}:app", "--host", "127.0.0.1"]
        cmd += ["--port", str(port), *UVICORN_FLAGS]
        if server.workers > 1:
            cmd += ["--workers", str(server.workers)]
        cwd = ctx.baseline_dir / "apps"
        # the apps import `common`; uvicorn's default --app-dir "." is the apps folder
    env |= extra
    cmd = pin(0, args, server.pinned) + cmd
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
            # uvicorn listens only after lifespan startup has completed (1 worker); with
            # several, the supervisor listens first: wait until a worker answers
            if server.kind != "chinwag" or healthy(port):
                return run
        time.sleep(0.05)
    stop(run)
    raise RuntimeError(f"{server.key} not listening on {port} after 60 s:\n{log.read_text()}")


def healthy(port: int) -> bool:
    with contextlib.suppress(OSError, http.client.HTTPException):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        finally:
            conn.close()
    return False


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
    # workers of a multi-process server share the group: make sure none is left behind
    deadline = time.monotonic() + 10
    while group_pids(run.proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        if group_pids(run.proc.pid):
            os.killpg(run.proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def serving(server: Server, ctx: Ctx, db: Scratch | None) -> Iterator[Running]:
    run = start(server, free_port(), ctx, db)
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
def seed_over_http(port: int, args: argparse.Namespace, spread: int) -> dict[str, Any]:
    """Service, hot channel (``--seed`` messages), deep channel (1 message), spread channels."""
    c = Client(port)
    svc = c.call("POST", "/v1/Services", {"FriendlyName": "bench"})["sid"]
    ch = c.call("POST", f"/v1/Services/{svc}/Channels", {"FriendlyName": "hot"})["sid"]
    dch = c.call("POST", f"/v1/Services/{svc}/Channels", {"FriendlyName": "deep"})["sid"]
    spread_sids = [
        c.call("POST", f"/v1/Services/{svc}/Channels", {"FriendlyName": f"spread {i}"})["sid"]
        for i in range(spread)
    ]
    path = MSG.format(IS=svc, CH=ch)
    sids = [c.call("POST", path, {"Body": "hello"})["sid"] for _ in range(args.seed)]
    c.call("POST", MSG.format(IS=svc, CH=dch), {"Body": "hello"})  # a real row to copy
    c.close()
    return {"svc": svc, "ch": ch, "dch": dch, "sids": sids, "spread": spread_sids}


def build_template(ctx: Ctx, engine: str) -> dict[str, Any]:
    """A seeded chinwag database, copied fresh for every chinwag measurement on ``engine``.

    Created through chinwag itself (schema, service, channels, ``--seed`` messages over HTTP);
    the deep channel's ``--deep`` rows are then inserted directly with SQL while the server is
    stopped, shaped exactly like rows chinwag wrote, and its channel row updated to match. On
    PostgreSQL, ``--channels`` more channels are created over HTTP and renamed to the SIDs
    bench.lua picks from (``CH%032x``) for the spread create.
    """
    args = ctx.args
    spread = args.channels if engine == "postgresql" else 0
    t0 = time.monotonic()
    if engine == "sqlite":
        tpl = Scratch(path=ctx.work / "template.db")
        tpl.url = f"sqlite:///{tpl.path}"
    else:
        assert ctx.pg is not None
        name = ctx.pg.create("template")
        tpl = Scratch(url=ctx.pg.url(name), pg_db=name)
    with serving(SERVERS["chinwag" if engine == "sqlite" else "chinwag_pg"], ctx, tpl) as run:
        seeded = seed_over_http(run.port, args, spread)
    seed_s = time.monotonic() - t0
    svc, dch = seeded["svc"], seeded["dch"]
    deep_key = 0
    if engine == "sqlite":
        assert tpl.path is not None
        if args.deep > 1:
            insert_deep_sqlite(tpl.path, dch, args.deep)
        template_rows = count_rows(tpl.path)
    else:
        assert ctx.pg is not None and tpl.pg_db is not None
        sql = []
        if args.deep > 1:
            sql.append(deep_sql_pg(ctx.pg, tpl.pg_db, dch, args.deep))
        sql += [
            f"UPDATE channels SET sid = '{spread_sid(i)}' WHERE sid = '{old}';"
            for i, old in enumerate(seeded["spread"])
        ]
        if sql:
            ctx.pg.sql(tpl.pg_db, "\n".join(sql))
        ctx.pg.sql(tpl.pg_db, "VACUUM ANALYZE")  # a copy starts with statistics, like a live db
        template_rows = ctx.pg.count(tpl.pg_db)
    if args.deep > 1:
        deep_key = args.deep * 9 // 10 - 1
    ids = {
        "IS": svc,
        "CH": seeded["ch"],
        "IM": seeded["sids"][len(seeded["sids"]) // 2],
        "DCH": dch,
        "DK": deep_key,
    }
    info = {
        "engine": engine,
        "ids": ids,
        "seed_messages": args.seed,
        "deep_messages": max(args.deep, 1),
        "spread_channels": spread,
        "template_rows": template_rows,
        "seed_http_s": round(seed_s, 2),
        "template": str(tpl.path) if tpl.path else tpl.pg_db,
    }
    # a restarted server must see the direct changes: check count, a deep page, a spread channel
    check = fresh_copy(ctx, info, "check")
    try:
        server = SERVERS["chinwag" if engine == "sqlite" else "chinwag_pg"]
        with serving(server, ctx, check) as r:
            c = Client(r.port)
            got = c.call("GET", f"/v1/Services/{svc}/Channels/{dch}")["messages_count"]
            page = c.call(
                "GET", "/v1/Services/{IS}/Channels/{DCH}/Messages?PageToken=PT{DK}".format(**ids)
            )
            if spread:
                c.call("GET", f"/v1/Services/{svc}/Channels/{spread_sid(spread - 1)}")
            c.close()
    finally:
        drop_copy(ctx, check)
    if got != max(args.deep, 1) or (args.deep > 1 and page["messages"][0]["index"] != deep_key + 1):
        raise RuntimeError(f"deep channel check failed: count {got}, page {page['meta']}")
    info["template_s"] = round(time.monotonic() - t0, 2)
    if tpl.path is not None:
        info["template_bytes"] = tpl.path.stat().st_size
    return info


def insert_deep_sqlite(db: Path, dch: str, deep: int) -> None:
    con = sqlite3.connect(db, isolation_level=None)
    con.row_factory = sqlite3.Row
    proto = con.execute("SELECT * FROM messages WHERE channel_sid = ?", (dch,)).fetchone()
    cols = [k for k in proto.keys() if k != "id"]  # noqa: SIM118 (sqlite3.Row)
    base = dict(proto)
    rows = []
    for i in range(1, deep):
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
        (deep, deep, rows[-1][cols.index("sid")], dch),
    )
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def deep_sql_pg(pg: Postgres, db: str, dch: str, deep: int) -> str:
    """SQL copying the deep channel's one real row ``deep - 1`` times (new sid and index)."""
    cols = pg.sql(
        db,
        "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM "
        "information_schema.columns WHERE table_schema = current_schema() AND "
        "table_name = 'messages' AND column_name NOT IN ('id', 'sid', 'idx')",
    ).split(",")
    return (
        f"INSERT INTO messages (sid, idx, {', '.join(cols)}) "
        f"SELECT 'IM' || md5(p.sid || ':' || i), i, {', '.join('p.' + c for c in cols)} "
        f"FROM messages p, generate_series(1, {deep - 1}) AS i WHERE p.channel_sid = '{dch}';\n"
        f"UPDATE channels SET messages_count = {deep}, next_message_index = {deep}, "
        f"last_message_sid = (SELECT sid FROM messages WHERE channel_sid = '{dch}' "
        f"ORDER BY idx DESC LIMIT 1) WHERE sid = '{dch}';"
    )


def fresh_copy(ctx: Ctx, fixture: dict[str, Any], name: str) -> Scratch:
    """A fresh copy of an engine's template database for one server start."""
    if fixture["engine"] == "sqlite":
        path = copy_db(Path(fixture["template"]), ctx.work / f"{name}.db")
        return Scratch(url=f"sqlite:///{path}", path=path)
    assert ctx.pg is not None
    db = ctx.pg.create(name, template=fixture["template"])
    return Scratch(url=ctx.pg.url(db), pg_db=db)


def drop_copy(ctx: Ctx, db: Scratch) -> None:
    if db.path is not None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{db.path}{suffix}").unlink()
    if db.pg_db is not None and ctx.pg is not None:
        ctx.pg.drop(db.pg_db)


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


def count_rows(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT count(*) FROM messages").fetchone()[0])
    finally:
        con.close()


# --------------------------------------------------------------------------- wrk
def wrk(
    url: str,
    cfg: Config,
    seconds: float,
    args: argparse.Namespace,
    lua: Path,
    pinned: bool,
    path_fmt: str | None,
) -> dict[str, Any]:
    env = dict(os.environ, WRK_AUTH=WRK_AUTH, WRK_METHOD=cfg.method, WRK_BODY=cfg.body or "")
    if path_fmt is not None:
        env |= {"WRK_CHANNELS": str(args.channels), "WRK_PATH_FMT": path_fmt}
    cmd = [*pin(1, args, pinned), "wrk", f"-t{args.threads}", f"-c{args.connections}"]
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
    if path_fmt is not None:
        res["cmd"] = f"WRK_CHANNELS={args.channels} WRK_PATH_FMT={path_fmt} " + res["cmd"]
    res["wrk_cpu"] = round(wrk_cpu, 3)
    return res


def measure(cfg: Config, rnd: int, ctx: Ctx) -> dict[str, Any]:
    args = ctx.args
    server = SERVERS[cfg.server]
    lua = ctx.baseline_dir / "bench.lua"
    ids: dict[str, Any] = dict(FIXED)
    db: Scratch | None = None
    fixture: dict[str, Any] | None = None
    name = f"run-{cfg.id}-{rnd}"
    if server.kind == "chinwag":
        fixture = ctx.fixture[server.engine]
        ids = fixture["ids"]
        src_version = chinwag_fingerprint()
        db = fresh_copy(ctx, fixture, name)
    elif server.pg:
        assert ctx.pg is not None
        pg_db = ctx.pg.create(name)  # empty: the app creates its tables at start-up
        db = Scratch(url=ctx.pg.url(pg_db), pg_db=pg_db)
    path_fmt = None
    if cfg.channels:
        path_fmt = cfg.path.format(**(ids | {"CH": "%s"}))
        ids = ids | {"CH": spread_sid(0)}
    path = cfg.path.format(**ids)
    try:
        waited = wait_quiet(args.wait_quiet) if args.wait_quiet > 0 else 0.0
        with serving(server, ctx, db) as run:
            res, warm = drive(cfg, run, server, path, path_fmt, lua, ctx)
        if fixture is not None and cfg.method == "POST":
            assert db is not None
            if db.path is not None:
                n = count_rows(db.path)
            else:
                assert ctx.pg is not None and db.pg_db is not None
                n = ctx.pg.count(db.pg_db)
            res["rows"] = n - fixture["template_rows"]
    finally:
        if db is not None and (server.kind == "chinwag" or server.pg):
            drop_copy(ctx, db)
    if "rows" in res:
        # every 2xx must be a committed row (in-flight requests at the end may add a few more)
        ok = res["requests"] - res["err_status"]
        ok += 1 + ((warm["requests"] - warm["err_status"]) if warm else 0)
        res["responses_2xx_total"] = ok
        res["rows_ok"] = res["rows"] >= ok
    res |= {"config": cfg.id, "round": rnd, "warmup": warm, "waited_quiet_s": waited}
    if server.kind == "chinwag":
        res["chinwag_src"] = src_version
    return res


def drive(
    cfg: Config,
    run: Running,
    server: Server,
    path: str,
    path_fmt: str | None,
    lua: Path,
    ctx: Ctx,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Sanity request, warm-up, measured wrk run (with CPU accounting) on a running server."""
    args = ctx.args
    url = f"http://127.0.0.1:{run.port}{path}"
    c = Client(run.port)
    status, sample = c.raw(cfg.method, path, {"Body": "hello"} if cfg.body else None)
    c.close()
    if status != cfg.status:
        raise RuntimeError(f"{cfg.id}: sanity {cfg.method} {path} -> {status}: {sample[:300]!r}")
    profile = None
    pinned = server.pinned
    warm = None
    if args.warmup > 0:
        warm = wrk(url, cfg, args.warmup, args, lua, pinned, path_fmt)
    if args.profile:
        profile = start_py_spy(run, cfg, server, ctx)
    before = cpu_snapshot(run.proc.pid)
    res = wrk(url, cfg, args.duration, args, lua, pinned, path_fmt)
    res["cpu"] = cpu = cpu_usage(before, cpu_snapshot(run.proc.pid))
    # busy CPU time that was neither the server, wrk nor PostgreSQL: other processes
    cpu["other"] = round(
        max(sum(cpu["cpus_busy"]) - cpu["server"] - cpu["postgres"] - res["wrk_cpu"], 0), 3
    )
    if profile is not None:
        res["profile"] = finish_py_spy(profile)
    if server.counts and cfg.method == "POST":
        c = Client(run.port)
        res["rows"] = c.call("GET", "/_count")["messages"]
        c.close()
    res["server_cmd"] = " ".join(run.cmd)
    res["server_env"] = run.env
    res["response_bytes"] = len(sample)
    res["server_rss_kb"] = rss_kb(run.proc.pid)
    return res, warm


# (wall time, CPU seconds per pid of the server's process group, per postgres pid,
#  per-CPU /proc/stat counters)
Snapshot = tuple[float, dict[int, float], dict[int, float], list[list[int]]]


def wait_quiet(limit: float) -> float:
    """Wait until no CPU is more than 15 % busy (nothing of ours runs now); seconds waited.

    On a shared machine other people's test runs would land on the server's or wrk's core.
    Gives up after ``limit`` seconds (the run's CPU share column then shows the damage).
    """
    start = time.monotonic()
    while True:
        a = cpu_counters()
        time.sleep(1.0)
        busy = cpus_busy(a, cpu_counters())
        waited = time.monotonic() - start
        if max(busy, default=0) < 0.15 or waited >= limit:
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


def proc_cpu(pgid: int) -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds (utime + stime) of the processes in group ``pgid``, and of postgres."""
    ticks = os.sysconf("SC_CLK_TCK")
    group, pg = {}, {}
    for pid, comm, f in _procs():
        if int(f[2]) == pgid:
            group[pid] = (int(f[11]) + int(f[12])) / ticks
        elif comm == "postgres":
            pg[pid] = (int(f[11]) + int(f[12])) / ticks
    return group, pg


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


def cpu_snapshot(pgid: int) -> Snapshot:
    group, pg = proc_cpu(pgid)
    return time.monotonic(), group, pg, cpu_counters()


def cpu_usage(a: Snapshot, b: Snapshot) -> dict[str, Any]:
    """CPU shares (in cores) of the server's processes and of PostgreSQL, and per-CPU busy.

    A single-worker server uses ~100 % of CPU 0 when saturated; if CPU 0 is busier than that,
    something else ran there (other processes on a shared machine) and the figure is suspect.
    Processes that start during the run count whole; those that exit during it are missed.
    """
    wall = b[0] - a[0]

    def used(x: dict[int, float], y: dict[int, float]) -> float:
        return round(sum(v - x.get(pid, 0.0) for pid, v in y.items()) / wall, 3) if wall else 0.0

    per_proc = sorted(
        (round((v - a[1].get(pid, 0.0)) / wall, 3) for pid, v in b[1].items() if wall),
        reverse=True,
    )
    return {
        "server": used(a[1], b[1]),
        "server_procs": [x for x in per_proc if x >= 0.01],  # how the work split over workers
        "postgres": used(a[2], b[2]),
        "cpus_busy": cpus_busy(a[3], b[3]),
    }


def rss_kb(pgid: int) -> int | None:
    total = None
    for pid in group_pids(pgid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total = (total or 0) + int(line.split()[1])
    return total


# --------------------------------------------------------------------------- profiling
def start_py_spy(run: Running, cfg: Config, server: Server, ctx: Ctx) -> Any:
    args = ctx.args
    raw = ctx.work / f"profile-{cfg.id}.txt"
    cmd = [*pin(1, args, server.pinned), *tool("py-spy"), "record", "--pid", str(run.proc.pid)]
    cmd += ["--rate", "250", "--duration", f"{max(1, int(args.duration))}"]
    cmd += ["--format", "raw", "--output", str(raw)]
    if server.workers > 1:
        cmd.append("--subprocesses")
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
    for pkg in (
        "chinwag",
        "uvicorn",
        "uvloop",
        "httptools",
        "falcon",
        "starlette",
        "python-multipart",
        "orjson",
        "asyncpg",
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
        "postgresql": pg.info() if pg is not None else None,
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


def split(s: Summary) -> str:
    """CPU of each server process in the median run (workers, then the supervisor)."""
    run = sorted(s.runs, key=lambda r: r["rps"])[len(s.runs) // 2]
    return " + ".join(f"{x:.0%}" for x in run["cpu"].get("server_procs", []))


def fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def report(summaries: dict[str, Summary], meta: dict[str, Any], args: argparse.Namespace) -> str:
    m = meta["machine"]
    pg = m.get("postgresql")
    unpinned = sorted(
        {s.cfg.server for s in summaries.values() if not SERVERS[s.cfg.server].pinned}
    )
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
        f"request (the core is saturated). Latencies are closed-loop, {args.connections} "
        "requests in flight.",
    ]
    if unpinned and args.pin:
        lines.append(
            f"Unpinned (no taskset, server and wrk share both CPUs): {', '.join(unpinned)} "
            "(2 workers); their µs/req is not per core."
        )
    if pg:
        lines.append(
            f"PostgreSQL {pg['server_version']} at {args.pg_url} (fsync={pg['fsync']}, "
            f"synchronous_commit={pg['synchronous_commit']}, shared_buffers="
            f"{pg['shared_buffers']}), not pinned: its processes run on either CPU for chinwag "
            f"and baseline alike. Pool: {args.pg_pool} connections per server process. Every "
            "server gets a fresh database (chinwag: a copy of the template; asyncpg baseline: "
            "empty), dropped afterwards."
        )
    if args.profile:
        lines.append(
            "**Profile run**: py-spy pauses the server to sample it, so these req/s are lower "
            "than normal and must not be compared with a benchmark run."
        )
    for eng, f in meta.get("fixture", {}).items():
        lines.append(
            f"chinwag fixture ({eng}): 1 service, a channel of {f['seed_messages']:,} messages "
            f"(created over HTTP) and a channel of {f['deep_messages']:,} (inserted directly)"
            + (
                f", {f['spread_channels']} empty channels for the spread create"
                if f["spread_channels"]
                else ""
            )
            + "."
        )
    lines += [
        "",
        "| config | req/s median | min-max | spread | µs/req | p50 ms | p99 ms | non-2xx "
        "| sock err | server CPU | PG CPU | other load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summaries.values():
        rps = s.rps
        spread = (max(rps) - min(rps)) / s.median if s.median else 0
        lines.append(
            f"| {label(s.cfg, args)} (`{s.cfg.id}`) | **{fmt_int(s.median)}** | "
            f"{fmt_int(min(rps))}-{fmt_int(max(rps))} | {spread:.0%} | {1e6 / s.median:.0f} | "
            f"{s.med('lat_p50_us') / 1000:.2f} | {s.med('lat_p99_us') / 1000:.2f} | "
            f"{sum(r['err_status'] for r in s.runs)} | {sum(r['err_socket'] for r in s.runs)} | "
            f"{s.med_cpu('server'):.0%} | {s.med_cpu('postgres'):.0%} | "
            f"{s.med_cpu('other'):.0%} |"
        )
    noisy = [
        f"{s.cfg.id} round {r['round']} (other {r['cpu']['other']:.0%})"
        for s in summaries.values()
        for r in s.runs
        if r["cpu"]["other"] > OTHER_LOAD_LIMIT
    ]
    lines += [
        "",
        "Server CPU: median share of a core used by the server's processes during the measured "
        "run (below 100 % when it waits on disk I/O or on PostgreSQL; up to 200 % with 2 "
        "workers). PG CPU: the same for all PostgreSQL processes. Other load: median busy CPU "
        "time used by none of the server, PostgreSQL or wrk, i.e. other processes on the "
        "machine, in cores. "
        + (
            f"**Runs with other load above {OTHER_LOAD_LIMIT:.0%}** (suspect): "
            + "; ".join(noisy)
            + "."
            if noisy
            else f"No run had other load above {OTHER_LOAD_LIMIT:.0%}."
        ),
    ]
    retried = [
        f"{s.cfg.id} round {r['round']} ({len(r['discarded_noisy'])}x)"
        for s in summaries.values()
        for r in s.runs
        if r.get("discarded_noisy")
    ]
    if retried:
        lines.append(
            f"Measured again because other load exceeded {OTHER_LOAD_LIMIT:.0%} (`--retry`; "
            "the noisy attempts are kept in the JSON as `discarded_noisy`): "
            + "; ".join(retried)
            + "."
        )
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
    workers = []
    for w2, w1, eng in WORKER_PAIRS:
        for op in ("create", "fetch", "list"):
            one, two = summaries.get(f"{w1}.{op}"), summaries.get(f"{w2}.{op}")
            if one is None or two is None:
                continue
            a, b = one, two
            by_round = {r["round"]: r["rps"] for r in a.runs}
            per = [r["rps"] / by_round[r["round"]] for r in b.runs if r["round"] in by_round]
            workers.append(
                f"| {eng} | {op} | {fmt_int(a.median)} | {fmt_int(b.median)} | "
                f"**{b.median / a.median:.2f}** | {min(per):.2f}-{max(per):.2f} | "
                f"{a.med_cpu('server'):.0%} / {b.med_cpu('server'):.0%} | "
                f"{a.med_cpu('postgres'):.0%} / {b.med_cpu('postgres'):.0%} | {split(b)} |"
            )
    if workers:
        lines += [
            "",
            "1 worker (pinned to CPU 0, wrk on CPU 1) against 2 workers (no pinning at all):",
            "",
            "| engine | operation | 1 worker req/s | 2 workers req/s | 2w / 1w | per round "
            "| server CPU 1w / 2w | PG CPU 1w / 2w | 2w: CPU per process |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
            *workers,
        ]
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
        "--engine",
        choices=(*ENGINES, "both"),
        default="sqlite",
        help="chinwag's database, and the matching create baseline (sqlite)",
    )
    p.add_argument(
        "--workers-compare",
        action="store_true",
        help="also run chinwag with --workers 2, unpinned, on the selected engine(s)",
    )
    p.add_argument(
        "--pg-url",
        default=DEFAULT_PG_URL,
        help=f"PostgreSQL server for scratch databases (any database part is ignored) "
        f"({DEFAULT_PG_URL})",
    )
    p.add_argument(
        "--pg-pool",
        type=int,
        default=10,
        help="PostgreSQL connections per server process, chinwag and asyncpg baseline (10)",
    )
    p.add_argument(
        "--channels",
        type=int,
        default=100,
        help="PostgreSQL: also measure creates spread over this many channels; 0 skips (100)",
    )
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
    p.add_argument(
        "--retry",
        type=int,
        default=2,
        help=f"measure again, up to this many times, when other processes used more than "
        f"{OTHER_LOAD_LIMIT * 100:.0f}%% of a CPU during a measurement (2; 0: off)",
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
    args.engines = ENGINES if args.engine == "both" else (args.engine,)
    return args


def selected(args: argparse.Namespace) -> list[Config]:
    out = []
    for c in CONFIGS:
        server = SERVERS[c.server]
        if server.db_engine and server.db_engine not in args.engines:
            continue
        if server.workers > 1 and not args.workers_compare:
            continue
        if c.channels and args.channels <= 0:
            continue
        if args.only and c.target not in args.only:
            continue
        if c.extra and not args.extras:
            continue
        if c.deep and args.deep <= 1:
            continue
        if args.profile and server.kind != "chinwag":
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
    pg = Postgres(args.pg_url) if "postgresql" in args.engines else None
    meta: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    meta["machine"] = machine(pg)
    per_round = sum(3 + args.warmup + args.duration for _ in configs)
    minutes = per_round * args.rounds / 60
    print(f"bench: {len(configs)} configs x {args.rounds} rounds, ~{minutes:.1f} min", flush=True)
    summaries = {c.id: Summary(c) for c in configs}
    RESULTS.mkdir(exist_ok=True)
    name = stamp() + ("-profile" if args.profile else "")
    with tempfile.TemporaryDirectory(prefix="chinwag-bench-") as tmp:
        ctx = Ctx(args, Path(tmp), baseline_dir, pg)
        try:
            for engine in ENGINES:
                if any(
                    SERVERS[c.server].kind == "chinwag" and SERVERS[c.server].engine == engine
                    for c in configs
                ):
                    ctx.fixture[engine] = fx = build_template(ctx, engine)
                    print(f"bench: {engine} fixture ready in {fx['template_s']} s", flush=True)
            meta["fixture"] = ctx.fixture
            for rnd in range(1, args.rounds + 1):
                for cfg in configs:
                    res = measure(cfg, rnd, ctx)
                    print_run(cfg, rnd, res)
                    discarded = []
                    while res["cpu"]["other"] > OTHER_LOAD_LIMIT and len(discarded) < args.retry:
                        # another process ran during the measurement: measure again
                        discarded.append(res)
                        res = measure(cfg, rnd, ctx)
                        print_run(cfg, rnd, res, retry=len(discarded))
                    if discarded:
                        res["discarded_noisy"] = discarded
                    summaries[cfg.id].runs.append(res)
        finally:
            if pg is not None:
                pg.cleanup()
    text = report(summaries, meta, args)
    raw = {"meta": meta, "runs": [r for s in summaries.values() for r in s.runs]}
    (RESULTS / f"{name}.json").write_text(json.dumps(raw, indent=1, default=str))
    (RESULTS / f"{name}.md").write_text(text)
    print("\n" + text)
    print(f"bench: raw data in {RESULTS / name}.json, report in {RESULTS / name}.md")
    failed = [v for v in meta.get("verdicts", []) if not v["met"]]
    return 1 if failed else 0


def print_run(cfg: Config, rnd: int, res: dict[str, Any], retry: int = 0) -> None:
    cpu = res["cpu"]
    print(
        f"  round {rnd}{f' retry {retry}' if retry else ''} {cfg.id:<32} "
        f"{res['rps']:>9,.0f} req/s  "
        f"p50 {res['lat_p50_us'] / 1e3:6.2f} ms  p99 {res['lat_p99_us'] / 1e3:7.2f} ms"
        f"  non-2xx {res['err_status']}  sock {res['err_socket']}"
        f"  server CPU {cpu['server']:.0%}"
        + (
            " (" + " + ".join(f"{x:.0%}" for x in cpu["server_procs"]) + ")"
            if len(cpu["server_procs"]) > 1
            else ""
        )
        + (f"  PG {cpu['postgres']:.0%}" if cpu["postgres"] >= 0.01 else "")
        + f"  other {cpu['other']:.0%}"
        + (f"  (waited {res['waited_quiet_s']} s for idle CPUs)" if res["waited_quiet_s"] else "")
        + ("" if res.get("rows_ok", True) else "  ROWS MISSING"),
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())

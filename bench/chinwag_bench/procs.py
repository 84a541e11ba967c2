"""Starting and stopping the measured servers, and a tiny HTTP client for seeding and checks.

Each server is a subprocess in its own process group (so uvicorn and anything it forks stop
together), pinned to CPU 0 when pinning is on, on a free loopback port.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from .cpu import group_pids
from .pg import Scratch
from .servers import ACCOUNT_SID, AUTH_TOKEN, UVICORN_FLAGS, WRK_AUTH, Server
from .trees import Tree

BIN = Path(sys.executable).parent
HERE = Path(__file__).parent


def tool(name: str) -> list[str]:
    """The command of a console script, preferring the bench interpreter's own virtualenv."""
    exe = BIN / name
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", {"chinwag": "chinwag.cli"}.get(name, name)]


def pin(cpu: int, enabled: bool) -> list[str]:
    return ["taskset", "-c", str(cpu)] if enabled else []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Launch:
    """Where and how servers start: the run's scratch folder and its options."""

    work: Path
    apps: Path  # the baseline apps folder
    pin: bool
    pg_pool: int


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    cmd: list[str]
    env: dict[str, str]  # what was added to the environment
    log: Path


def start(server: Server, tree: Tree | None, db: Scratch | None, launch: Launch) -> Running:
    port = free_port()
    extra: dict[str, str] = dict(server.env)
    if server.kind == "chinwag":
        assert db is not None and tree is not None
        extra |= {"CHINWAG_ACCOUNT_SID": ACCOUNT_SID, "CHINWAG_AUTH_TOKEN": AUTH_TOKEN}
        chinwag = [sys.executable, str(HERE / server.script)] if server.script else tool("chinwag")
        cmd = [*chinwag, "serve", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--database", db.url, "--log-level", "warning"]
        if server.engine == "postgresql":
            cmd += ["--pool-size", str(launch.pg_pool)]
        env = tree.env(dict(os.environ) | extra)
        if tree.src is not None:
            extra["PYTHONPATH"] = env["PYTHONPATH"]
        cwd = launch.work
    else:
        if server.sqlite:
            extra["SQLITE_PATH"] = str(launch.work / f"{server.key}-{port}.db")
        if server.pg:
            assert db is not None
            extra |= {"PG_DSN": db.url, "PG_POOL": str(launch.pg_pool), "N_CHANNELS": "1"}
        if server.script:
            cmd = [sys.executable, str(HERE / server.script), server.module, str(port)]
        else:
            cmd = [*tool("uvicorn"), f"{server.module}:app", "--host", "127.0.0.1"]
            cmd += ["--port", str(port), *UVICORN_FLAGS]
        env = dict(os.environ) | extra
        cwd = launch.apps  # the apps import `common`: uvicorn's --app-dir "." is this folder
    cmd = pin(0, launch.pin) + cmd
    log = launch.work / f"{server.key}-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    run = Running(proc, port, cmd, extra, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{server.key} exited ({proc.returncode}):\n{log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            # uvicorn listens only after its lifespan startup has completed
            return run
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
    deadline = time.monotonic() + 10
    while group_pids(run.proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        if group_pids(run.proc.pid):
            os.killpg(run.proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def serving(
    server: Server, tree: Tree | None, db: Scratch | None, launch: Launch
) -> Iterator[Running]:
    run = start(server, tree, db, launch)
    try:
        yield run
    finally:
        stop(run)


class Client:
    """One keep-alive connection with the bench credentials."""

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

"""The real ``chinwag`` command in a subprocess, with stdout and stderr kept apart."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from chinwag.testing.processes import lifeline
from conftest import free_port, server_env


@dataclass
class Output:
    """What the process wrote; filled in once it has stopped."""

    stdout: str = ""
    stderr: str = ""
    lines: list[str] = field(default_factory=list)


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chinwag.cli", *args],
        env=env if env is not None else server_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lifeline(),
    )


@contextmanager
def serving(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    open_files: int | None = None,
) -> Iterator[tuple[str, Output]]:
    """``chinwag serve ARGS`` on a free port until /healthz answers; stopped with SIGTERM.

    ``open_files`` sets its soft and hard open-file limits (as a service manager would).
    """
    port = free_port()
    arm = lifeline()

    def preexec() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))
        if arm is not None:
            arm()

    proc = subprocess.Popen(
        [sys.executable, "-m", "chinwag.cli", "serve", "--port", str(port), *args],
        env=env if env is not None else server_env(),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
    )
    url, output = f"http://127.0.0.1:{port}", Output()
    try:
        deadline = time.monotonic() + 60  # generous: a loaded machine starts slowly
        while True:
            if proc.poll() is not None:
                out, err = proc.communicate()
                raise AssertionError(f"chinwag serve exited early:\n{out}\n{err}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "chinwag serve did not become healthy"
            time.sleep(0.05)
        yield url, output
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            output.stdout, output.stderr = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            output.stdout, output.stderr = proc.communicate()
        output.lines = (output.stdout + output.stderr).splitlines()

"""A server a test started dies with the test process, however that process ends.

An inner pytest run starts a real ``chinwag serve --workers 2`` through the suite's own
``spawn_server`` and waits; the test kills that pytest with SIGKILL (no fixture, no ``finally``
runs) and checks the server and its workers are gone. Run alone, and as an xdist run, where
the killed process is the controller and the server belongs to its worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from chinwag.testing.processes import descendants

pytestmark = pytest.mark.server

TESTS = Path(__file__).resolve().parent

#: the inner run's conftest: this suite's own, loaded by path, with its hooks (the subreaper,
#: xdist workers that die with their controller, the session-end sweep)
INNER_CONFTEST = """
import importlib.util, sys

sys.path.insert(0, {tests!r})
spec = importlib.util.spec_from_file_location("suite_conftest", {conftest!r})
suite = importlib.util.module_from_spec(spec)
sys.modules["suite_conftest"] = suite
spec.loader.exec_module(suite)
pytest_configure = suite.pytest_configure
pytest_unconfigure = suite.pytest_unconfigure
"""

INNER = """
import pathlib, time

from suite_conftest import spawn_server


def test_hold_a_server(tmp_path):
    proc, url = spawn_server(f"sqlite:///{{tmp_path}}/chinwag.db", "--workers", "2")
    pathlib.Path({pid_file!r}).write_text(f"{{proc.pid}} {{url}}")
    time.sleep(300)
"""


def _gone(pid: int) -> bool:
    """Dead, or a zombie (an orphan this process adopted as a subreaper, to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return True
    return state == "Z"


@pytest.mark.parametrize("mode", [["-p", "no:xdist"], ["-n", "1"]], ids=["alone", "xdist"])
def test_a_killed_test_process_takes_its_server_with_it(tmp_path: Path, mode: list[str]) -> None:
    pid_file = tmp_path / "server.pid"
    inner = tmp_path / "inner" / "test_inner.py"
    inner.parent.mkdir()
    (inner.parent / "conftest.py").write_text(
        INNER_CONFTEST.format(tests=str(TESTS), conftest=str(TESTS / "conftest.py"))
    )
    inner.write_text(INNER.format(pid_file=str(pid_file)))
    runner = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *mode, str(inner)],
        cwd=inner.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not pid_file.exists() or not pid_file.read_text():
            assert runner.poll() is None, "the inner pytest ended before starting its server"
            assert time.monotonic() < deadline, "the inner pytest did not start its server"
            time.sleep(0.1)
        pid_text, url = pid_file.read_text().split()
        server = [int(pid_text), *descendants(int(pid_text))]
        assert len(server) >= 3  # the supervisor and its two workers
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200

        os.kill(runner.pid, signal.SIGKILL)
        runner.wait()

        deadline = time.monotonic() + 30  # workers stop gracefully on SIGTERM
        while not all(_gone(pid) for pid in server):
            assert time.monotonic() < deadline, [p for p in server if not _gone(p)]
            time.sleep(0.1)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{url}/healthz", timeout=2)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
